#include "certctl/util/time_format.h"

#include <gtest/gtest.h>

namespace certctl {
namespace {

using std::chrono::seconds;

TEST(DurationTest, AcceptsEachUnit) {
  EXPECT_EQ(*ParseDuration("90s"), seconds(90));
  EXPECT_EQ(*ParseDuration("15m"), seconds(900));
  EXPECT_EQ(*ParseDuration("1h"), seconds(3600));
  EXPECT_EQ(*ParseDuration("7d"), seconds(7 * 86400));
}

TEST(DurationTest, RefusesMalformed) {
  for (const char* bad : {"", "90", "h", "1.5h", "-1h", "+1h", "0s", "1w", "1 h", "1hh",
                          "99999999999999d"}) {
    auto d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("90s"), std::string::npos);
    }
  }
}

TEST(DurationTest, FormatsLargestExactUnit) {
  EXPECT_EQ(FormatDuration(seconds(7 * 86400)), "7d");
  EXPECT_EQ(FormatDuration(seconds(7200)), "2h");
  EXPECT_EQ(FormatDuration(seconds(120)), "2m");
  EXPECT_EQ(FormatDuration(seconds(90)), "90s");
}

TEST(Rfc3339Test, RoundTrip) {
  TimePoint t = FromUnixSeconds(1795000000);
  std::string text = FormatRfc3339(t);
  EXPECT_EQ(text, "2026-11-18T11:06:40Z");
  EXPECT_EQ(*ParseRfc3339(text), t);
}

// A TimePoint (nanoseconds in 64 bits) ends in 2262: a later date is the
// latest time, not an overflow into the past ("--since 2999-01-01" listed
// everything).
TEST(Rfc3339Test, DatesPastTheRangeAreTheLatestTime) {
  auto far = ParseRfc3339("2999-01-01");
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(*far, TimePoint::max());
  EXPECT_GT(*far, *ParseRfc3339("2262-01-01"));
  EXPECT_GT(*ParseRfc3339("2262-01-01"), *ParseRfc3339("2026-11-18"));
}

TEST(Rfc3339Test, OffsetsFractionsAndDates) {
  EXPECT_EQ(*ParseRfc3339("2026-11-18T13:06:40+02:00"), FromUnixSeconds(1795000000));
  EXPECT_EQ(*ParseRfc3339("2026-11-18T11:06:40.123Z"), FromUnixSeconds(1795000000));
  EXPECT_EQ(FormatRfc3339(*ParseRfc3339("2026-11-18")), "2026-11-18T00:00:00Z");
  EXPECT_FALSE(ParseRfc3339("2026-13-01").ok());
  EXPECT_FALSE(ParseRfc3339("yesterday").ok());
  EXPECT_FALSE(ParseRfc3339("2026-11-18T08:26:40").ok());
}

}  // namespace
}  // namespace certctl
