// Byte encodings: hex, base64, and digests as operators see them.
#pragma once

#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl {

// Lowercase hex of raw bytes.
std::string HexEncode(std::string_view bytes);
// Accepts upper/lower case; odd length or a non-hex character is InvalidArgument.
Result<std::string> HexDecode(std::string_view hex);

// Standard base64 with padding (RFC 4648 §4).
std::string Base64Encode(std::string_view bytes);
// Accepts the standard and the URL-safe alphabet, with or without padding;
// whitespace is ignored. Anything else is InvalidArgument.
Result<std::string> Base64Decode(std::string_view text);

// Percent-decoding for URL path segments ("%2F" -> "/"); "+" stays "+".
Result<std::string> PercentDecode(std::string_view text);

// SHA-256 of `data`, raw (32 bytes) and lowercase hex.
std::string Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

// Constant-time equality for secrets (CRYPTO_memcmp); lengths are compared first,
// which only reveals the length. Callers compare fixed-length digests.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Random bytes from the OpenSSL CSPRNG.
Result<std::string> RandomBytes(size_t n);

// Overwrites a string's bytes (OPENSSL_cleanse) and clears it.
void Cleanse(std::string& secret);

}  // namespace certctl
