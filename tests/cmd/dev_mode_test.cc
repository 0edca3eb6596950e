// Where certctl-admin looks (issue 12): --dev finds var/dev above the current
// directory, or CERTCTL_DEV_DIR, and says where it looked when there is none;
// a database it cannot reach is named (never its password) with libpq's
// reason, and `certctld --dev` is suggested only for a dev cluster that is down.
#include <gtest/gtest.h>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

class DevModeTest : public testing::AdminTest {
 protected:
  // <dir>/checkout/var/dev with a certctl.yaml naming `database_url`.
  std::string MakeDevDir(const std::string& database_url) {
    std::string dev = *dir_ / "checkout/var/dev";
    EXPECT_TRUE(EnsureDirectory(dev, 0700).ok());
    EXPECT_TRUE(EnsureDirectory(*dir_ / "checkout/src/deep", 0700).ok());
    EXPECT_TRUE(WriteFileAtomic(dev + "/certctl.yaml",
                                "database_url: \"" + database_url + "\"\n",
                                {.mode = 0600, .keep_backup = false})
                    .ok());
    return dev;
  }
  // certctl-admin `args` run in `cwd`, configured by the dev directory only.
  ProcessResult RunIn(const std::string& cwd, const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {CERTCTL_ADMIN_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessOptions options;
    options.working_dir = cwd;
    options.extra_env = env;
    auto r = RunProcess(argv, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }
};

TEST_F(DevModeTest, DevFindsTheDataDirectoryAboveTheCurrentOne) {
  std::string dev = MakeDevDir(url_);
  auto deep = RunIn(*dir_ / "checkout/src/deep", {"--dev", "db", "status"});
  EXPECT_EQ(deep.exit_code, 0) << deep.output;
  EXPECT_NE(deep.output.find("schema version"), std::string::npos) << deep.output;
  // From elsewhere: CERTCTL_DEV_DIR names it.
  ASSERT_TRUE(EnsureDirectory(*dir_ / "elsewhere", 0700).ok());
  auto named =
      RunIn(*dir_ / "elsewhere", {"--dev", "db", "status"}, {"CERTCTL_DEV_DIR=" + dev});
  EXPECT_EQ(named.exit_code, 0) << named.output;
  // Nowhere: 78, saying where it looked.
  auto none = RunIn(*dir_ / "elsewhere", {"--dev", "db", "status"});
  EXPECT_EQ(none.exit_code, 78) << none.output;
  EXPECT_NE(none.output.find("no var/dev in " + (*dir_ / "elsewhere") +
                             " or any directory above it"),
            std::string::npos)
      << none.output;
  EXPECT_NE(none.output.find("CERTCTL_DEV_DIR"), std::string::npos) << none.output;
}

TEST_F(DevModeTest, AnUnreachableDatabaseIsNamedWithLibpqsReason) {
  testing::TempDir nothing;
  auto down = Admin({"crl", "status"}, {"CERTCTL_DATABASE_URL=host=" + nothing.path() +
                                        " port=5433 dbname=certctl user=alice "
                                        "password=s3cret connect_timeout=2"});
  EXPECT_EQ(down.exit_code, 69) << down.Both();
  EXPECT_NE(down.err.find("cannot connect to PostgreSQL at socket " + nothing.path() +
                          "/.s.PGSQL.5433, database certctl, user alice: "),
            std::string::npos)
      << down.err;
  EXPECT_NE(down.err.find("No such file or directory"), std::string::npos) << down.err;
  EXPECT_EQ(down.err.find("s3cret"), std::string::npos) << down.err;
  EXPECT_EQ(down.err.find("--dev"), std::string::npos) << down.err;
}

// --dev against a server that runs (the database is what is missing): the
// reason, and no advice to start certctld --dev.
TEST_F(DevModeTest, DevIsSuggestedOnlyForADevClusterThatIsDown) {
  std::string other_database = url_;
  size_t at = other_database.find("dbname=");
  ASSERT_NE(at, std::string::npos) << url_;
  other_database.replace(at, other_database.find(' ', at) - at, "dbname=nope");
  MakeDevDir(other_database);
  auto running = RunIn(*dir_ / "checkout", {"--dev", "crl", "status"});
  EXPECT_EQ(running.exit_code, 69) << running.output;
  EXPECT_NE(running.output.find("\"nope\" does not exist"), std::string::npos)
      << running.output;
  EXPECT_EQ(running.output.find("certctld --dev"), std::string::npos) << running.output;

  // A dev cluster that is not running: start certctld --dev, which owns it.
  std::string dev = *dir_ / "checkout/var/dev";
  ASSERT_TRUE(EnsureDirectory(dev + "/pg/pgdata", 0700).ok());
  MakeDevDir("host=" + dev + "/pg/run port=5432 user=postgres dbname=certctl");
  auto stopped = RunIn(*dir_ / "checkout/src", {"--dev", "crl", "status"});
  EXPECT_EQ(stopped.exit_code, 69) << stopped.output;
  EXPECT_NE(stopped.output.find("the dev cluster of " + dev +
                                " is not running: start `certctld --dev --data-dir " +
                                dev + "`"),
            std::string::npos)
      << stopped.output;
}

}  // namespace
}  // namespace certctl
