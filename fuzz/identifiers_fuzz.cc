// Fuzz target: the identifiers and text clients put in paths, queries and
// bodies (core/util/identifiers.h, Serial, the log escaping). Each parser is
// checked against an independent statement of its rule written here:
//  - serials (Serial::Parse for text, Serial::FromAsn1 for the INTEGER of a
//    CertID) come out canonical, and parse and convert back to themselves;
//  - issuer ids are accepted exactly when they match the schema's pattern;
//  - generations are accepted exactly when they are 1..kMaxGeneration in
//    canonical decimal;
//  - IsValidUtf8 agrees with a decoder written from RFC 3629 here, and
//    IsCleanText with a rule on its code points (no C0 but '\n', '\r', '\t'
//    when allowed, no DEL, no C1);
//  - Printable lets only printable ASCII through and is bounded and
//    reversible; EscapeLogText gives valid UTF-8 without C0 or DEL.
#include <openssl/asn1.h>
#include <openssl/err.h>

#include <optional>
#include <regex>
#include <string>

#include "certctl/log/logging.h"
#include "certctl/pki/serial.h"
#include "certctl/util/identifiers.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace certctl;
using fuzz::Expect;

void CheckSerial(const Serial& s) {
  static const std::regex canonical("[1-9a-f][0-9a-f]{0,39}");
  Expect(std::regex_match(s.hex(), canonical),
         "a serial is canonical: lowercase hex, no leading 0, at most 40 digits");
  auto again = Serial::Parse(s.hex());
  Expect(again.ok() && *again == s, "parsing a canonical serial gives it back");
  auto asn1 = s.ToAsn1();
  Expect(asn1.ok(), "a serial converts to an ASN.1 INTEGER");
  auto back = Serial::FromAsn1(asn1->get());
  Expect(back.ok() && *back == s, "ASN.1 round trip of a serial");
}

void CheckSerials(std::string_view input) {
  if (auto s = Serial::Parse(input); s.ok()) CheckSerial(*s);
  const auto* p = reinterpret_cast<const unsigned char*>(input.data());
  UniquePtr<ASN1_INTEGER> value(
      d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(input.size())));
  if (!value) {
    ERR_clear_error();  // this target's own d2i, not certctl's
    return;
  }
  if (auto s = Serial::FromAsn1(value.get()); s.ok()) CheckSerial(*s);
}

void CheckIssuerAndGeneration(std::string_view input) {
  static const std::regex issuer("[a-z0-9][a-z0-9-]{0,62}");
  bool expected = std::regex_match(input.begin(), input.end(), issuer);
  Expect(IsIssuerId(input) == expected, "IsIssuerId is ^[a-z0-9][a-z0-9-]{0,62}$");
  auto parsed = ParseIssuerId(input);
  Expect(parsed.ok() == expected && (!expected || *parsed == input),
         "ParseIssuerId accepts issuer ids unchanged and nothing else");
  static const std::regex decimal("[1-9][0-9]{0,9}");
  bool generation = std::regex_match(input.begin(), input.end(), decimal) &&
                    std::stoll(std::string(input)) <= kMaxGeneration;
  auto g = ParseGeneration(input);
  Expect(g.ok() == generation && (!generation || std::to_string(*g) == input),
         "ParseGeneration accepts exactly 1..kMaxGeneration in canonical decimal");
}

// RFC 3629 §4, decoded to code points and checked by value: shortest form,
// no surrogates, at most U+10FFFF. nullopt when not valid UTF-8.
std::optional<std::u32string> DecodeUtf8(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80           ? 1
                 : (b >> 5) == 0x6  ? 2
                 : (b >> 4) == 0xe  ? 3
                 : (b >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    char32_t cp = len == 1 ? b : b & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c >> 6) != 0x2) return std::nullopt;
      cp = (cp << 6) | (c & 0x3f);
    }
    static const char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      return std::nullopt;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

// Clean text by code point: no C0 control (but '\n', '\r', '\t' when
// allowed), no DEL, no C1 control (U+0080..U+009F).
bool ReferenceClean(const std::u32string& text, bool newlines) {
  for (char32_t cp : text) {
    if (newlines && (cp == '\n' || cp == '\r' || cp == '\t')) continue;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return false;
  }
  return true;
}

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out.push_back(
          static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16)));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void CheckText(std::string_view input) {
  auto decoded = DecodeUtf8(input);
  Expect(IsValidUtf8(input) == decoded.has_value(), "IsValidUtf8 agrees with RFC 3629");
  for (bool newlines : {false, true}) {
    Expect(
        IsCleanText(input, newlines) == (decoded && ReferenceClean(*decoded, newlines)),
        "IsCleanText is valid UTF-8 without C0, DEL or C1 controls");
  }
  std::string shown = Printable(input, 80);
  Expect(PrintableAscii(shown), "Printable shows printable ASCII only");
  Expect(shown.size() <= 4 * 80 + 32, "Printable is bounded");
  if (input.size() <= 80) Expect(Unescape(shown) == input, "Printable is reversible");
  std::string logged = EscapeLogText(input);
  Expect(IsValidUtf8(logged), "an escaped log message is valid UTF-8");
  for (auto c : logged) {
    auto b = static_cast<unsigned char>(c);
    Expect(b >= 0x20 && b != 0x7f, "an escaped log message has no control character");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = fuzz::Input(data, size);
  CheckSerials(input);
  CheckIssuerAndGeneration(input);
  CheckText(input);
  fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
