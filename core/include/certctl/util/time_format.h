// Durations and timestamps in the forms operators type and read.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

// Parses "90s", "15m", "1h", "7d" (a positive integer and one unit). Anything
// else, including a bare number, is InvalidArgument naming the accepted forms.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// "7d", "1h", "90s": the largest unit that divides the value exactly.
std::string FormatDuration(std::chrono::seconds d);

// RFC 3339 in UTC with a Z suffix and second precision: 2026-11-27T17:00:00Z.
std::string FormatRfc3339(TimePoint t);

// Accepts RFC 3339 with Z or a numeric offset, optional fractional seconds, and
// a plain date (YYYY-MM-DD, midnight UTC).
Result<TimePoint> ParseRfc3339(std::string_view text);

// Unix seconds <-> TimePoint, truncating sub-second parts.
inline int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

}  // namespace certctl
