#include "daemon/file_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace certctl::daemon {
namespace {

TEST(FileLimit, RaisesTheSoftLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_GT(saved.rlim_max, 256u) << "the test needs a hard limit above 256";
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  FileLimit got = RaiseFileLimit();
  rlimit now{};
  ::getrlimit(RLIMIT_NOFILE, &now);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  EXPECT_EQ(got.before, 256u);
  EXPECT_EQ(got.soft, saved.rlim_max);
  EXPECT_EQ(got.hard, saved.rlim_max);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
}

TEST(FileLimit, ConnectionCapsAreFittedUnderTheLimit) {
  struct Case {
    const char* name;
    ConnectionLimits wanted;
    uint64_t soft_limit;
    int pool;
    ConnectionLimits expected;
  };
  const std::vector<Case> cases = {
      // 65536 - 64 - 16 leaves room for both: unchanged.
      {"fits", {512, 16, 2048}, 65536, 8, {512, 16, 2048}},
      // ulimit -n 1024: 1024 - 64 - 16 = 944 for connections, shared 1:4.
      {"ulimit 1024", {512, 16, 2048}, 1024, 8, {188, 5, 756}},
      {"exactly enough", {100, 10, 100}, 64 + 2 * 8 + 200, 8, {100, 10, 100}},
      {"one short", {100, 10, 100}, 64 + 2 * 8 + 199, 8, {99, 9, 100}},
      // Next to nothing left: every cap at least 1, the reserve below the API cap.
      {"starved", {512, 16, 2048}, 70, 8, {1, 0, 1}},
      {"no reserve wanted", {512, 0, 2048}, 1024, 8, {188, 0, 756}},
  };
  for (const auto& c : cases) {
    ConnectionLimits got = FitConnectionLimits(c.wanted, c.soft_limit, c.pool);
    EXPECT_EQ(got.api, c.expected.api) << c.name;
    EXPECT_EQ(got.api_reserved, c.expected.api_reserved) << c.name;
    EXPECT_EQ(got.pki, c.expected.pki) << c.name;
    EXPECT_LE(got.api + got.pki,
              std::max<uint64_t>(2, c.soft_limit > 80 ? c.soft_limit - 80 : 0))
        << c.name;
    EXPECT_LT(got.api_reserved, got.api) << c.name;
  }
}

}  // namespace
}  // namespace certctl::daemon
