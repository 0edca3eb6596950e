// Reading DER CRLs without materialising them.
//
// CrlView checks a CertificateList the way a relying party would (structure,
// version 2, issuer, times, extensions and every entry decoded by OpenSSL)
// but keeps only views into the caller's bytes and a few decoded header
// fields: entries are decoded one at a time and dropped, so checking a
// 1M-entry CRL needs no more memory than the CRL itself. (d2i_X509_CRL would
// allocate several objects per entry; see crl_builder.cc.)
//
// A CrlView borrows the DER it was parsed from: the bytes must outlive it and
// must not change. Movable, not copyable; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

struct CrlEntry {
  std::string serial;  // canonical (Serial::hex())
  TimePoint revoked_at;
  int reason = 0;  // RFC 5280 CRLReason; 0 when the entry has no reasonCode
};

class CrlView {
 public:
  // Corruption naming what is wrong when `der` is not a well-formed version 2
  // CRL (garbage, truncated, trailing bytes, a field or entry that does not
  // decode, inner and outer signature algorithms differing).
  static Result<CrlView> Parse(std::string_view der);
  // The view would outlive a temporary string: keep the bytes in a variable.
  static Result<CrlView> Parse(std::string&& der) = delete;

  CrlView(CrlView&&) noexcept;
  CrlView& operator=(CrlView&&) noexcept;
  ~CrlView();

  size_t size() const { return der_.size(); }
  int64_t entry_count() const { return entry_count_; }
  std::optional<int64_t> crl_number() const { return crl_number_; }
  // Raw keyIdentifier bytes of the Authority Key Identifier; empty when absent.
  const std::string& authority_key_id() const { return authority_key_id_; }
  const std::string& issuer() const { return issuer_; }  // RFC 2253
  TimePoint this_update() const { return this_update_; }
  std::optional<TimePoint> next_update() const { return next_update_; }

  // OK when the CRL names `ca_cert`'s subject as its issuer and its signature
  // verifies with `ca_cert`'s public key; Corruption saying which is wrong.
  // Supports the algorithms certctl signs with (ECDSA, RSA PKCS#1 v1.5,
  // Ed25519).
  Status VerifySignature(X509* ca_cert) const;

  // Calls `fn` for each entry in CRL order; stops at the first non-OK.
  Status ForEachEntry(const std::function<Status(const CrlEntry&)>& fn) const;

 private:
  CrlView() = default;
  std::string_view der_;
  std::string_view tbs_;        // the signed bytes (TBSCertList TLV)
  std::string_view sig_alg_;    // outer AlgorithmIdentifier TLV
  std::string_view signature_;  // BIT STRING content without the unused-bits octet
  std::string_view entries_;    // content of revokedCertificates; empty when absent
  UniquePtr<X509_NAME> issuer_name_;
  std::string issuer_;
  std::string authority_key_id_;
  std::optional<int64_t> crl_number_;
  TimePoint this_update_;
  std::optional<TimePoint> next_update_;
  int64_t entry_count_ = 0;
};

}  // namespace certctl
