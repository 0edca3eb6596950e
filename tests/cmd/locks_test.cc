// certctl-admin locks list|release (issue 12): who holds which lock and
// whether it still runs; a lock is released only for a holder that is gone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

class LocksTest : public testing::AdminTest {
 protected:
  // Holds `name` from this process's database session, recorded for `pid`
  // on this host, as a certctl-admin run would.
  std::unique_ptr<OperationLock> Hold(const std::string& name, int pid) {
    auto lock = OperationLock::Acquire(
        db(), name, {"certctl-admin crl.regenerate (bob)", HostName(), pid});
    EXPECT_TRUE(lock.ok()) << lock.status().ToString();
    return lock.ok() ? std::move(lock).value() : nullptr;
  }
  // A pid on this host that no process has any more.
  static int GonePid() {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
  }
  bool Held(const std::string& name) {
    auto holder = OperationLock::FindHolder(db(), name);
    EXPECT_TRUE(holder.ok()) << holder.status().ToString();
    return holder.ok() && holder->has_value();
  }
  const nlohmann::json* Lock(const testing::AdminRun& run, const std::string& name) {
    for (const auto& l : run.json["data"]["locks"]) {
      if (l["name"] == name) return &l;
    }
    return nullptr;
  }
};

TEST_F(LocksTest, ListShowsEachHolderAndWhetherItRuns) {
  auto alive = Hold("crl:alive", static_cast<int>(::getpid()));
  auto gone = Hold("crl:gone", GonePid());
  auto remote = HoldLock("crl:remote");  // "certctld" on host-a
  auto run = Admin({"-o", "json", "locks", "list"});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_EQ(run.json["data"]["host"], HostName());
  const auto* a = Lock(run, "crl:alive");
  const auto* g = Lock(run, "crl:gone");
  const auto* r = Lock(run, "crl:remote");
  ASSERT_TRUE(a && g && r) << run.out;
  EXPECT_EQ((*a)["state"], "alive");
  EXPECT_EQ((*a)["pid"], ::getpid());
  EXPECT_EQ((*a)["holder"], "certctl-admin crl.regenerate (bob)");
  EXPECT_FALSE((*a)["since"].is_null());
  EXPECT_EQ((*g)["state"], "gone");
  EXPECT_EQ((*r)["state"], "unknown");
  EXPECT_EQ((*r)["host"], "host-a");
  EXPECT_EQ((*r)["pid"], 4242);
  // A holder that is gone is a warning naming the way out; exit 0 still.
  ASSERT_EQ(run.json["findings"].size(), 1u) << run.out;
  EXPECT_EQ(run.json["findings"][0]["code"], "lock.holder_gone");
  EXPECT_EQ(run.json["findings"][0]["subject"], "crl:gone");

  auto text = Admin({"locks", "list"});
  EXPECT_EQ(text.exit_code, 0) << text.Both();
  EXPECT_NE(text.out.find("NAME"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("locks release crl:gone"), std::string::npos) << text.out;
  remote.reset();
  gone.reset();
  alive.reset();
  EXPECT_NE(Admin({"locks", "list"}).out.find("no operation lock is held"),
            std::string::npos);
}

// A pid that runs now but started after the lock was taken is not the holder.
TEST_F(LocksTest, AReusedPidIsNotTheHolder) {
  auto lock = Hold("crl:reused", static_cast<int>(::getpid()));
  Sql(url_,
      "UPDATE operation_locks SET acquired_at = now() - interval '10 years' "
      "WHERE name = 'crl:reused'");
  auto run = Admin({"-o", "json", "locks", "list"});
  const auto* l = Lock(run, "crl:reused");
  ASSERT_NE(l, nullptr) << run.out;
  EXPECT_EQ((*l)["state"], "gone") << run.out;
}

TEST_F(LocksTest, ReleaseFreesOnlyTheLockOfAHolderThatIsGone) {
  auto gone = Hold("crl:gone", GonePid());
  // Dry run: the plan, the lock still held.
  auto dry = Admin({"-o", "json", "locks", "release", "crl:gone", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.Both();
  ASSERT_EQ(dry.json["plan"].size(), 1u) << dry.out;
  EXPECT_TRUE(Held("crl:gone"));
  // Without --yes and no terminal: refused, nothing done.
  EXPECT_EQ(Admin({"locks", "release", "crl:gone"}).exit_code, 2);
  EXPECT_TRUE(Held("crl:gone"));
  auto released = Admin({"-o", "json", "locks", "release", "crl:gone", "--yes"});
  EXPECT_EQ(released.exit_code, 0) << released.Both();
  EXPECT_EQ(released.json["data"]["released"], true);
  EXPECT_FALSE(Held("crl:gone"));
  EXPECT_EQ(AuditOutcomes("locks.release"), "started,succeeded");
  EXPECT_EQ(Sql(url_,
                "SELECT parameters::jsonb ->> 'holder' FROM audit_events WHERE action = "
                "'locks.release' ORDER BY id DESC LIMIT 1"),
            "certctl-admin crl.regenerate (bob)");
  // Anyone may take it again.
  auto again = OperationLock::Acquire(db(), "crl:gone", ThisProcess("test"));
  EXPECT_TRUE(again.ok()) << again.status().ToString();
  // Not held at all: 2.
  auto free = Admin({"locks", "release", "crl:none", "--yes"});
  EXPECT_EQ(free.exit_code, 2) << free.Both();
  EXPECT_NE(free.err.find("no one holds lock crl:none"), std::string::npos) << free.err;
}

TEST_F(LocksTest, ReleaseIsRefusedWhileTheHolderRunsOrCannotBeChecked) {
  auto alive = Hold("crl:alive", static_cast<int>(::getpid()));
  auto refused = Admin({"locks", "release", "crl:alive", "--yes"});
  EXPECT_EQ(refused.exit_code, 75) << refused.Both();
  EXPECT_NE(refused.err.find("still running"), std::string::npos) << refused.err;
  EXPECT_TRUE(Held("crl:alive"));
  // --force is for another host only: a live local holder keeps its lock.
  EXPECT_EQ(Admin({"locks", "release", "crl:alive", "--yes", "--force"}).exit_code, 75);
  EXPECT_TRUE(Held("crl:alive"));
  EXPECT_EQ(AuditOutcomes("locks.release"), "started,failed,started,failed");

  auto remote = HoldLock("crl:remote");  // on host-a
  auto unknown = Admin({"locks", "release", "crl:remote", "--yes"});
  EXPECT_EQ(unknown.exit_code, 75) << unknown.Both();
  EXPECT_NE(unknown.err.find("--force"), std::string::npos) << unknown.err;
  EXPECT_TRUE(Held("crl:remote"));
  auto forced = Admin({"locks", "release", "crl:remote", "--yes", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.Both();
  EXPECT_FALSE(Held("crl:remote"));
}

}  // namespace
}  // namespace certctl
