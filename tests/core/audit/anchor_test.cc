// The anchor file: its one-line format, atomic 0600 writes, and that writers
// only ever move it forward.
#include "certctl/audit/anchor.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "certctl/util/files.h"
#include "certctl/util/time_format.h"
#include "support/pg_harness.h"

namespace certctl::audit {
namespace {

AnchorHead Head(int64_t seq) {
  return {seq, seq + 100, std::string(31, 'h') + static_cast<char>(seq),
          *ParseRfc3339("2026-11-27T17:00:00Z")};
}

TEST(AuditAnchorTest, FormatsOneLineAndParsesItBack) {
  std::string line = FormatAnchor(Head(42));
  EXPECT_EQ(line.rfind("certctl-audit-anchor v1 seq=42 id=142 hash=", 0), 0u) << line;
  EXPECT_TRUE(line.ends_with(" time=2026-11-27T17:00:00Z\n")) << line;
  // Also when pasted from a log line with text around it.
  auto parsed = ParseAnchor("certctld[12]: " + line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->seq, 42);
  EXPECT_EQ(parsed->id, 142);
  EXPECT_EQ(parsed->hash, Head(42).hash);
}

TEST(AuditAnchorTest, RefusesWhatIsNotAnAnchor) {
  std::string good = FormatAnchor(Head(1));
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  for (const std::string& bad :
       {std::string(""), std::string("seq=1 id=1"), replace("seq=1", "seq=0"),
        replace("seq=1", "seq=x"), replace("id=101", "id=-3"),
        replace("hash=", "hash=zz"), replace("time=2026", "time=2O26")}) {
    auto r = ParseAnchor(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AuditAnchorTest, AdvancesOnlyForwardAtomicallyWithMode0600) {
  testing::TempDir dir;
  std::string path = dir / "audit.anchor";
  EXPECT_EQ(ReadAnchorFile(path).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(*AdvanceAnchorFile(path, Head(5)));
  EXPECT_EQ(*FileMode(path), 0600u);
  EXPECT_FALSE(*AdvanceAnchorFile(path, Head(4)));  // an older head never wins
  EXPECT_EQ(ReadAnchorFile(path)->seq, 5);
  EXPECT_TRUE(*AdvanceAnchorFile(path, Head(6)));
  ASSERT_TRUE(ReplaceAnchorFile(path, Head(2)).ok());  // `audit anchor` may go back
  EXPECT_EQ(ReadAnchorFile(path)->seq, 2);
  // Nothing but the anchor and its lock file: no temporary files, no backups.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"audit.anchor", "audit.anchor.lock"}));
}

// `sudo certctl-admin db migrate` (or any command that advances the chain)
// run as root must leave the anchor and its lock usable by certctld's user:
// both take the owner of the directory (found installing the .deb by hand).
TEST(AuditAnchorTest, RootLeavesTheAnchorAndItsLockToTheDirectorysOwner) {
  testing::TempDir dir;
  std::filesystem::path service = dir / "state";
  ASSERT_TRUE(EnsureDirectory(service, 0700).ok());
  const uid_t owner = ::geteuid() == 0 ? 4242 : ::geteuid();
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(service.c_str(), owner, owner), 0);
  }
  std::filesystem::path path = service / "audit.anchor";
  ASSERT_TRUE(*AdvanceAnchorFile(path, Head(1)));
  for (const auto& f : {path, std::filesystem::path(path.string() + ".lock")}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, owner) << f;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << f;
  }
}

TEST(AuditAnchorTest, ConcurrentWritersEndAtTheNewestHead) {
  testing::TempDir dir;
  std::string path = dir / "audit.anchor";
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 1; i <= 50; ++i) {
        // Interleaved and out of order, as replicas' commits finish.
        EXPECT_TRUE(AdvanceAnchorFile(path, Head(i * 4 - t)).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(ReadAnchorFile(path)->seq, 200);
}

TEST(AuditAnchorTest, LeavesAFileThatIsNotAnAnchorAlone) {
  testing::TempDir dir;
  std::string path = dir / "audit.anchor";
  ASSERT_TRUE(WriteFileAtomic(path, "overwritten by someone\n").ok());
  auto r = AdvanceAnchorFile(path, Head(9));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ReadFile(path), "overwritten by someone\n");
}

}  // namespace
}  // namespace certctl::audit
