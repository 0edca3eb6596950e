// Certificate serial numbers.
//
// One canonical text form everywhere (database, API, logs): lowercase hex with
// no leading zeros, e.g. "3f0a9c". Serial::Parse is the only place a serial
// typed by a person or sent by a client is normalised.
#pragma once

#include <openssl/asn1.h>

#include <string>
#include <string_view>

#include "certctl/pki/ossl.h"
#include "certctl/util/status.h"

namespace certctl {

class Serial {
 public:
  // Accepts upper or lower case, leading zeros, an optional "0x" prefix and
  // colon-separated bytes as `openssl x509 -text` prints them. Refuses empty,
  // zero, non-hex text and values longer than 20 octets (RFC 5280 §4.1.2.2).
  static Result<Serial> Parse(std::string_view text);

  // 159 random bits from the CSPRNG: positive, at most 20 octets in DER.
  static Result<Serial> Random();

  // From a certificate's or request's ASN.1 INTEGER; negative is refused.
  static Result<Serial> FromAsn1(const ASN1_INTEGER* value);

  // The canonical form.
  const std::string& hex() const { return hex_; }
  Result<UniquePtr<ASN1_INTEGER>> ToAsn1() const;

  friend bool operator==(const Serial& a, const Serial& b) { return a.hex_ == b.hex_; }
  friend bool operator!=(const Serial& a, const Serial& b) { return a.hex_ != b.hex_; }

 private:
  explicit Serial(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

}  // namespace certctl
