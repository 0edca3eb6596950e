#include "certctl/util/identifiers.h"

#include <charconv>

namespace certctl {

bool IsIssuerId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIssuerIdLength) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) return false;
  }
  return true;
}

Result<std::string> ParseIssuerId(std::string_view text) {
  if (IsIssuerId(text)) return std::string(text);
  return Status::InvalidArgument(
      "malformed issuer id \"" + Printable(text) +
      "\"; ids are lowercase letters, digits and '-', at most 63");
}

Result<int> ParseGeneration(std::string_view text) {
  int n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  bool digits_only = !text.empty() && text.front() != '-' && text.front() != '+';
  if (!digits_only || ec != std::errc() || end != text.data() + text.size() || n < 1 ||
      n > kMaxGeneration || (text.size() > 1 && text.front() == '0')) {
    return Status::InvalidArgument("the CA generation must be an integer from 1 to " +
                                   std::to_string(kMaxGeneration) + ", not \"" +
                                   Printable(text, 40) + "\"");
  }
  return n;
}

bool IsValidUtf8(std::string_view text) {
  // Hand-written: none of the Debian libraries certctl links offers a plain
  // validator (OpenSSL's UTF8_getc is internal). Table 3-7 of the Unicode
  // standard, byte by byte.
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;  // no overlong forms
      if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;  // no overlong forms
      if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

bool IsCleanText(std::string_view text, bool allow_newlines) {
  if (!IsValidUtf8(text)) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!allow_newlines) return false;
    } else if (c < 0x20 || c == 0x7f) {
      return false;
    } else if (c == 0xc2 && i + 1 < text.size()) {
      // U+0080..U+009F (C1 controls) are encoded as C2 80..C2 9F.
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return false;
    }
  }
  return true;
}

std::string Printable(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t shown = std::min(text.size(), max_bytes);
  out.reserve(shown + 16);
  for (size_t i = 0; i < shown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  if (shown < text.size()) out += "...(" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string GenerationLabel(std::string_view issuer, int generation) {
  return std::string(issuer) + "/g" + std::to_string(generation);
}

}  // namespace certctl
