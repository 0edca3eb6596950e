#include "certctl/util/time_format.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace certctl {
namespace {

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid duration \"" + std::string(text) +
                                   "\": expected a positive integer and a unit, like "
                                   "90s, 15m, 1h or 7d");
  };
  if (text.size() < 2) return bad();
  int64_t unit;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return bad();
  }
  int64_t n = 0;
  std::string_view digits = text.substr(0, text.size() - 1);
  if (digits.front() == '+' || digits.front() == '-' || !ParseInt(digits, n) || n <= 0) {
    return bad();
  }
  // Ten thousand years is more than any setting needs; refuse overflow.
  if (n > 10000LL * 365 * 86400 / unit) return bad();
  return std::chrono::seconds(n * unit);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string FormatRfc3339(TimePoint t) {
  std::time_t tt = static_cast<std::time_t>(ToUnixSeconds(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("invalid timestamp \"" + std::string(text) +
                                   "\": expected RFC 3339 like 2026-01-31T12:00:00Z or a "
                                   "date like 2026-01-31");
  };
  int y, mo, d, h = 0, mi = 0, s = 0;
  int consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) != 3 ||
      consumed != 10) {
    return bad();
  }
  std::string_view rest = text.substr(10);
  int64_t offset = 0;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != 't' && rest[0] != ' ') return bad();
    std::string tail(rest.substr(1));
    if (std::sscanf(tail.c_str(), "%2d:%2d:%2d%n", &h, &mi, &s, &consumed) != 3 ||
        consumed != 8) {
      return bad();
    }
    std::string_view zone = rest.substr(9);
    if (!zone.empty() && zone[0] == '.') {
      size_t i = 1;
      while (i < zone.size() && zone[i] >= '0' && zone[i] <= '9') ++i;
      if (i == 1) return bad();
      zone = zone.substr(i);
    }
    if (zone == "Z" || zone == "z") {
      offset = 0;
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
      int64_t oh, om;
      if (!ParseInt(zone.substr(1, 2), oh) || !ParseInt(zone.substr(4, 2), om))
        return bad();
      offset = (oh * 3600 + om * 60) * (zone[0] == '+' ? 1 : -1);
    } else {
      return bad();
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return bad();
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  std::time_t tt = timegm(&tm);
  // A TimePoint counts nanoseconds in 64 bits: it ends in 2262. A later time
  // (e.g. "2999-01-01", a date after anything recorded) is the latest one,
  // rather than a multiplication that overflows into the past.
  constexpr int64_t kMax =
      std::chrono::duration_cast<std::chrono::seconds>(TimePoint::duration::max())
          .count();
  int64_t seconds = static_cast<int64_t>(tt) - offset;
  if (seconds >= kMax) return TimePoint::max();
  if (seconds <= -kMax) return TimePoint::min();
  return FromUnixSeconds(seconds);
}

}  // namespace certctl
