#include "certctl/pki/serial.h"

#include <openssl/bn.h>

#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"

namespace certctl {
namespace {

constexpr size_t kMaxHexDigits = 40;  // 20 octets

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Result<Serial> Serial::Parse(std::string_view text) {
  std::string_view original = text;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid serial \"" + Printable(original, 60) +
                                   "\": " + std::string(why));
  };
  std::string digits;
  digits.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ':') {
      // Colons only between byte pairs: "0a:1b".
      if (i == 0 || i + 1 == text.size() || text[i + 1] == ':')
        return bad("misplaced ':'");
      continue;
    }
    if (!IsHex(c)) return bad("only hexadecimal digits are allowed");
    digits.push_back(c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (digits.empty()) return bad("empty");
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return bad("zero is not a valid certificate serial");
  digits.erase(0, first);
  if (digits.size() > kMaxHexDigits) return bad("longer than 20 octets");
  return Serial(std::move(digits));
}

Result<Serial> Serial::Random() {
  for (;;) {
    ASSIGN_OR_RETURN(std::string bytes, RandomBytes(20));
    bytes[0] =
        static_cast<char>(static_cast<unsigned char>(bytes[0]) & 0x7f);  // 159 bits
    auto serial = Parse(HexEncode(bytes));
    if (serial.ok()) return serial;  // only fails for the all-zero value
  }
}

Result<Serial> Serial::FromAsn1(const ASN1_INTEGER* value) {
  if (value == nullptr) return Status::InvalidArgument("missing serial number");
  UniquePtr<BIGNUM> bn(ASN1_INTEGER_to_BN(value, nullptr));
  if (!bn) return OpenSslError(StatusCode::kInvalidArgument, "decode serial number");
  if (BN_is_negative(bn.get())) return Status::InvalidArgument("negative serial number");
  char* hex = BN_bn2hex(bn.get());
  if (!hex) return OpenSslError("encode serial number");
  std::string text(hex);
  OPENSSL_free(hex);
  return Parse(text);
}

Result<UniquePtr<ASN1_INTEGER>> Serial::ToAsn1() const {
  BIGNUM* raw = nullptr;
  if (BN_hex2bn(&raw, hex_.c_str()) == 0) return OpenSslError("serial to BIGNUM");
  UniquePtr<BIGNUM> bn(raw);
  UniquePtr<ASN1_INTEGER> out(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!out) return OpenSslError("serial to ASN1_INTEGER");
  return out;
}

}  // namespace certctl
