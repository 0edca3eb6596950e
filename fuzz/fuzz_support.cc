#include "fuzz/fuzz_support.h"

#include <openssl/err.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/files.h"

namespace certctl::fuzz {
namespace {

template <typename T>
T OrDie(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "fuzz setup: %s: %s\n", what, r.status().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

FuzzPki LoadPki() {
  const std::string dir = CERTCTL_FUZZ_TESTDATA;
  FuzzPki pki;
  pki.now = std::chrono::system_clock::now();
  // Read rather than LoadPrivateKeyFile: git does not keep the 0600 mode
  // that function insists on, and this key is public test data.
  pki.ca_key = OrDie(ParsePrivateKeyPem(OrDie(ReadFile(dir + "/ca.key"), "read ca.key")),
                     "parse ca.key");
  pki.ca_cert =
      OrDie(ParseCertificatePem(OrDie(ReadFile(dir + "/ca.pem"), "read ca.pem")),
            "parse ca.pem");
  pki.responder_key = OrDie(GenerateKey(KeyAlgorithm::kEcdsaP256), "responder key");
  pki.responder_cert =
      OrDie(IssueResponderCertificate(
                {"certctl fuzz OCSP Responder", pki.responder_key.get(),
                 pki.ca_cert.get(), pki.ca_key.get(), pki.now, std::chrono::hours(24)}),
            "responder certificate");
  pki.csr_key = OrDie(GenerateKey(KeyAlgorithm::kEd25519), "CSR key");
  return pki;
}

// The database's answer under the rule of AnswerAndCheck.
OcspSingleResponse Decide(const OcspCertId& id, const FuzzPki& pki) {
  OcspSingleResponse a{&id, OcspCertStatus::kUnknown};
  if (!CertIdIssuedBy(id, pki.ca_cert.get()) || !id.serial) return a;
  char last = id.serial->hex().back();
  bool revoked = (last >= '0' && last <= '9' ? last - '0' : last - 'a' + 10) % 2 == 1;
  a.status = revoked ? OcspCertStatus::kRevoked : OcspCertStatus::kGood;
  if (revoked) {
    a.reason = 1;  // keyCompromise
    a.revoked_at = pki.now - std::chrono::hours(1);
  }
  return a;
}

}  // namespace

void Expect(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: expectation failed: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

void ExpectNoOpenSslErrorLeft() {
  if (ERR_peek_error() != 0) {
    ERR_print_errors_fp(stderr);  // with OpenSSL's file, line and function
    Expect(false, "no OpenSSL error is left on the thread's queue");
  }
  ERR_clear_error();  // frees the strings OpenSSL keeps of errors already read
}

std::string_view Input(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

const FuzzPki& Pki() {
  static const FuzzPki pki = LoadPki();
  return pki;
}

void AnswerAndCheck(const OcspRequestInfo& request) {
  const FuzzPki& pki = Pki();
  Expect(!request.ids.empty() &&
             request.ids.size() <= static_cast<size_t>(kMaxOcspRequestCertIds),
         "a parsed request has 1..kMaxOcspRequestCertIds CertIDs");
  Expect(!request.nonce || (request.nonce->size() >= kMinOcspNonceBytes &&
                            request.nonce->size() <= kMaxOcspNonceBytes),
         "a parsed nonce has an accepted size");
  std::vector<OcspSingleResponse> answers;
  bool all_ours = true;
  for (const auto& id : request.ids) {
    answers.push_back(Decide(id, pki));
    all_ours = all_ours && CertIdIssuedBy(id, pki.ca_cert.get());
  }
  OcspSigningParams params{pki.responder_cert.get(), pki.responder_key.get(), pki.now,
                           pki.now + std::chrono::hours(96),
                           request.nonce ? request.request.get() : nullptr};
  auto der = SignOcspResponse(answers, params);
  Expect(der.ok(), "a parsed request can be answered");
  auto parsed = ParseOcspResponse(*der);
  Expect(parsed.ok() && parsed->response_status == 0 && parsed->basic,
         "the signed answer parses as a successful response");
  Expect(parsed->singles.size() == answers.size(), "one SingleResponse per CertID");
  for (size_t i = 0; i < answers.size(); ++i) {
    Expect(parsed->singles[i].cert_id_der == request.ids[i].der,
           "each SingleResponse echoes its CertID");
    Expect(parsed->singles[i].status == answers[i].status,
           "each SingleResponse says the status decided");
  }
  Expect(parsed->nonce == request.nonce, "the nonce is echoed exactly");
  Expect(OcspResponseSignedBy(*parsed, pki.responder_cert.get()),
         "the answer is signed by the responder");
  if (all_ours) {
    Expect(VerifyOcspResponse(*parsed, pki.ca_cert.get()).ok(),
           "an answer about the CA's certificates verifies with the CA");
  }
}

}  // namespace certctl::fuzz
