// Fuzz target: the identifiers clients put in paths and bodies. Serials
// (Serial::Parse for text, Serial::FromAsn1 for the INTEGER of a CertID) must
// come out canonical or be refused; issuer ids are checked against the
// schema's pattern, written out independently here.
#include <openssl/asn1.h>

#include <regex>

#include "certctl/pki/serial.h"
#include "daemon/handlers/common.h"
#include "fuzz/fuzz_support.h"

namespace {

using certctl::Serial;
using certctl::fuzz::Expect;

bool Canonical(const std::string& hex) {
  static const std::regex pattern("[1-9a-f][0-9a-f]{0,39}");
  return std::regex_match(hex, pattern);
}

void CheckSerial(const Serial& s) {
  Expect(Canonical(s.hex()), "a serial is canonical: lowercase hex, no leading 0, <= 40");
  auto again = Serial::Parse(s.hex());
  Expect(again.ok() && *again == s, "parsing a canonical serial gives it back");
  auto asn1 = s.ToAsn1();
  Expect(asn1.ok(), "a serial converts to an ASN.1 INTEGER");
  auto back = Serial::FromAsn1(asn1->get());
  Expect(back.ok() && *back == s, "ASN.1 round trip of a serial");
}

void CheckSerialText(std::string_view text) {
  auto s = Serial::Parse(text);
  if (s.ok()) CheckSerial(*s);
}

void CheckSerialDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  certctl::UniquePtr<ASN1_INTEGER> value(
      d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(der.size())));
  if (!value) return;
  auto s = Serial::FromAsn1(value.get());
  if (s.ok()) CheckSerial(*s);
}

void CheckIssuerId(std::string_view text) {
  static const std::regex pattern("[a-z0-9][a-z0-9-]{0,62}");
  bool expected = std::regex_match(text.begin(), text.end(), pattern);
  Expect(certctl::daemon::handlers::IsIssuerId(text) == expected,
         "IsIssuerId agrees with ^[a-z0-9][a-z0-9-]{0,62}$");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = certctl::fuzz::Input(data, size);
  CheckSerialText(input);
  CheckSerialDer(input);
  CheckIssuerId(input);
  return 0;
}
