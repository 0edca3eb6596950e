// What the libFuzzer targets share: a failed expectation that stops the run
// (libFuzzer keeps the input as a reproducer), the test PKI loaded from
// fuzz/testdata, and the OCSP answering path without a database.
//
// The test PKI is read once per process and never changes; targets only read
// it. libFuzzer runs one input at a time, so nothing here is thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "certctl/pki/ocsp.h"
#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"

namespace certctl::fuzz {

// Prints `what` and aborts when `ok` is false: an invariant certctl promises
// did not hold, which libFuzzer reports as a crash with its input.
void Expect(bool ok, std::string_view what);

// Called at the end of each input of a target that reaches OpenSSL. Fails
// (Expect) when certctl left an error on this thread's OpenSSL error queue:
// a later failure on the same thread (in certctld, another client's
// request) would report it as its own. Then clears the queue: OpenSSL 3
// frees the strings of errors already read only when their slot is reused,
// which libFuzzer sees as memory kept across inputs and answers with a leak
// check after every input (csr_fuzz ran ~10x slower).
void ExpectNoOpenSslErrorLeft();

// The input as a string_view.
std::string_view Input(const uint8_t* data, size_t size);

// fuzz/testdata: a CA (fixed key, so that the seed corpus names it), a
// delegated responder issued at start-up, and an Ed25519 key for signing
// re-encoded CSRs.
struct FuzzPki {
  TimePoint now;
  UniquePtr<X509> ca_cert;
  UniquePtr<EVP_PKEY> ca_key;
  UniquePtr<X509> responder_cert;
  UniquePtr<EVP_PKEY> responder_key;
  UniquePtr<EVP_PKEY> csr_key;
};
const FuzzPki& Pki();

// Answers `request` the way OcspEngine::Respond does, with the database
// replaced by a rule (a serial of the test CA whose last hex digit is odd is
// revoked, any other is good; CertIDs of other issuers are unknown), signs
// the answer with the test responder, reads it back and checks it: one
// SingleResponse per CertID echoing it byte for byte with the status given,
// the nonce echoed, and the signature and chain verifying as a relying
// party checks them whenever every CertID names the test CA.
void AnswerAndCheck(const OcspRequestInfo& request);

}  // namespace certctl::fuzz
