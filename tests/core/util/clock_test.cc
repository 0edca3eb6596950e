#include "certctl/util/clock.h"

#include <gtest/gtest.h>

namespace certctl {
namespace {

TEST(ClockTest, PastHalfLifeFromTheMiddleOfTheValidity) {
  TimePoint this_update = std::chrono::system_clock::from_time_t(1'700'000'000);
  TimePoint next_update = this_update + std::chrono::hours(24);
  EXPECT_FALSE(PastHalfLife(this_update, next_update, this_update));
  EXPECT_FALSE(
      PastHalfLife(this_update, next_update,
                   this_update + std::chrono::hours(12) - std::chrono::seconds(1)));
  EXPECT_TRUE(
      PastHalfLife(this_update, next_update, this_update + std::chrono::hours(12)));
  EXPECT_TRUE(PastHalfLife(this_update, next_update, next_update));
  EXPECT_TRUE(
      PastHalfLife(this_update, next_update, next_update + std::chrono::hours(1)));
}

}  // namespace
}  // namespace certctl
