#include "certctl/util/process.h"

#include <gtest/gtest.h>

namespace certctl {
namespace {

// A variable given to the child replaces the inherited one: printenv (like
// libpq) reads the first entry of its environment, so with both present the
// inherited PATH would win and, say, a PGPASSWORD given to pg_restore would
// lose to one the operator's shell exported.
TEST(RunProcessTest, AGivenVariableReplacesTheInheritedOne) {
  ASSERT_NE(std::getenv("PATH"), nullptr);
  auto r = RunProcess({"printenv", "PATH"}, {.extra_env = {"PATH=/given-by-the-caller"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output, "/given-by-the-caller\n");
}

}  // namespace
}  // namespace certctl
