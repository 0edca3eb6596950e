// Identifiers and text that arrive from outside (URL paths, query strings,
// request bodies, command lines) are checked here, once, before they reach
// a cache, a log line or the database.
//
// Why this matters: libpq passes text parameters as C strings, so an issuer
// id "iss-local\0x" reaches PostgreSQL as "iss-local" while an in-memory
// cache keyed by the raw bytes sees another issuer; a revocation then
// invalidates one and not the other. Every id is therefore parsed into its
// one canonical form at the edge, and caches are keyed by that form only.
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl {

// Issuer ids are what the issuers table's CHECK allows: 1 to 63 characters,
// lowercase ASCII letters, digits and '-', not starting with '-'.
inline constexpr size_t kMaxIssuerIdLength = 63;
bool IsIssuerId(std::string_view id);
// The id unchanged when IsIssuerId; otherwise InvalidArgument whose message
// shows the offending text escaped (see Printable), never raw.
Result<std::string> ParseIssuerId(std::string_view text);

// CA generations are 1..kMaxGeneration, decimal digits only (no sign, no
// spaces, no leading zeros beyond "0" itself, which is out of range anyway).
inline constexpr int kMaxGeneration = 1000000;
Result<int> ParseGeneration(std::string_view text);
// How messages and logs name a CA generation: "iss-local/g1".
std::string GenerationLabel(std::string_view issuer, int generation);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// True when `text` is valid UTF-8 without NUL or other C0/C1 control
// characters and without DEL; with `allow_newlines`, '\n', '\r' and '\t' are
// allowed (PEM blocks, multi-line reasons).
bool IsCleanText(std::string_view text, bool allow_newlines = false);

// `text` made safe for a log line or an error message: printable ASCII is
// kept, '\\' is doubled, everything else (control characters, DEL, bytes
// >= 0x80) becomes \xNN; longer than `max_bytes` input is cut there and
// "...(N bytes)" appended. A request can therefore neither forge log lines
// nor make one line long.
std::string Printable(std::string_view text, size_t max_bytes = 80);

}  // namespace certctl
