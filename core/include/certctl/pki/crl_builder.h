// Building and signing X.509 v2 CRLs (RFC 5280 §5) for one CA generation,
// one revoked certificate at a time.
//
// The CRL is encoded incrementally into one buffer and signed once at the
// end, so memory grows by the encoded size of each entry (about 50 bytes)
// and nothing else: 1M revocations need about 50 MB, not gigabytes. See
// crl_builder.cc for why OpenSSL's X509_CRL is not used to build it.
//
// Not thread-safe; one builder per CRL. The builder borrows the CA
// certificate and key; they must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

struct CrlParams {
  X509* ca_cert = nullptr;     // issuer name and Authority Key Identifier (borrowed)
  EVP_PKEY* ca_key = nullptr;  // signs with SigningDigest(ca_key) (borrowed)
  int64_t crl_number = 0;      // CRL Number extension; must be >= 1
  TimePoint this_update;
  TimePoint next_update;  // must be after this_update
};

class CrlBuilder {
 public:
  // Checks the parameters (InvalidArgument naming the problem: missing CA,
  // key not matching the certificate, number < 1, nextUpdate not after
  // thisUpdate) and prepares everything but the entries. `expected_entries`
  // sizes the buffer up front so it is not reallocated (and briefly held
  // twice) while it grows; 0 when unknown.
  static Result<std::unique_ptr<CrlBuilder>> Start(const CrlParams& params,
                                                   int64_t expected_entries = 0);
  ~CrlBuilder();
  CrlBuilder(const CrlBuilder&) = delete;
  CrlBuilder& operator=(const CrlBuilder&) = delete;

  // Appends one revokedCertificates entry. `serial` must be in the canonical
  // form (Serial::hex(): lowercase hex, no leading zeros) and `reason` an RFC
  // 5280 CRLReason code (0..10 but 7); reason 0 (unspecified) gets no
  // reasonCode extension, as RFC 5280 §5.3.1 recommends. So does 8
  // (removeFromCRL): it belongs in delta CRLs only, and in this complete CRL
  // it would tell relying parties the certificate is not revoked.
  // InvalidArgument otherwise, and the entry is not added.
  Status Add(std::string_view serial, TimePoint revoked_at, int reason);

  int64_t entry_count() const { return count_; }

  // Adds the CRL extensions (Authority Key Identifier with the CA's subject
  // key identifier, CRL Number), signs, and returns the DER CertificateList.
  // The builder is spent afterwards (FailedPrecondition on further use).
  Result<std::string> Finish();

 private:
  CrlBuilder() = default;
  struct Prepared;
  std::unique_ptr<Prepared> prepared_;
  std::string buf_;  // [headroom][entries...], see crl_builder.cc
  size_t headroom_ = 0;
  int64_t count_ = 0;
  bool finished_ = false;
};

// The Authority Key Identifier a CRL of `ca_cert` carries: the CA's subject
// key identifier, or, when the certificate has none, the SHA-1 of its public
// key (RFC 5280 §4.2.1.2 method 1, as OpenSSL's "hash" computes it).
Result<std::string> CrlAuthorityKeyId(X509* ca_cert);

}  // namespace certctl
