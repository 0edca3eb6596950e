// CrlService: the verified read-through cache certctld serves CRLs from.
#include <gtest/gtest.h>

#include <thread>

#include "certctl/log/logging.h"
#include "certctl/util/time_format.h"
#include "core/ops/crl_fixture.h"
#include "store/issuer_repo.h"
#include "store/operation_lock.h"
#include "support/eventually.h"
#include "support/log_capture.h"

namespace certctl {
namespace {

using std::chrono::hours;
using testing::Sql;
using testing::TestCluster;

TimePoint Now() {
  return FromUnixSeconds(ToUnixSeconds(std::chrono::system_clock::now()));
}

class CrlServiceTest : public testing::CrlOpsTest {
 protected:
  // Re-checks crl_cache on every Get, so each test sees the row it wrote.
  static ops::CrlServiceOptions Always() {
    ops::CrlServiceOptions o;
    o.recheck_interval = std::chrono::milliseconds(0);
    return o;
  }

  std::shared_ptr<const ops::CrlArtifact> MustGet(
      ops::CrlService& service, std::optional<int> generation = std::nullopt) {
    auto served = service.Get(kLocalIssuerId, generation);
    EXPECT_TRUE(served.ok()) << served.status().ToString();
    return served.ok() ? served->crl : nullptr;
  }
};

TEST_F(CrlServiceTest, SignsLiveOnAMissingRowThenServesFromMemory) {
  Revoke(Issue().serial);
  ops::CrlService service(Context());
  auto first = service.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_memory);
  EXPECT_EQ(first->crl->crl_number, 1);
  EXPECT_EQ(first->crl->revoked_count, 1);
  ExpectValidLocalCrl(first->crl->der);
  EXPECT_EQ(CachedDer(), first->crl->der);  // written back
  EXPECT_EQ(Events("trigger = 'fetch' AND succeeded"), 1);

  auto second = service.Get(kLocalIssuerId, 1);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->from_memory);
  EXPECT_EQ(second->crl.get(), first->crl.get());
  EXPECT_EQ(Events(), 1);
}

TEST_F(CrlServiceTest, ServesAValidCachedRowWithoutSigning) {
  Regenerate(ops::CrlTrigger::kScheduled);
  ops::CrlService service(Context(), Always());
  auto crl = MustGet(service);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(crl->der, CachedDer());
  EXPECT_EQ(Events(), 1);  // only the scheduler's
  // An unchanged row is not re-read, but it is still the database's answer.
  auto again = service.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->from_memory);
  EXPECT_EQ(again->crl.get(), crl.get());
}

TEST_F(CrlServiceTest, CorruptRowsAreNeverServedAndAreRepaired) {
  struct Case {
    std::string name;
    std::function<std::string()> forge;
  };
  std::vector<Case> cases = {
      {"garbage", [] { return std::string("\x30\x03garbage", 9); }},
      {"wrong signature",
       [] { return SignCrl(Impostor(), 1, Now(), Now() + hours(24)); }},
      {"expired",
       [this] { return SignCrl(LocalCa(), 1, Now() - hours(48), Now() - hours(1)); }},
  };
  Revoke(Issue().serial);
  for (bool warm : {false, true}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(c.name + (warm ? " (memory warm)" : " (cold)"));
      Regenerate(ops::CrlTrigger::kScheduled);
      ops::CrlService service(Context(), Always());
      if (warm) MustGet(service);
      int64_t number = CachedRow()->crl_number;
      std::string forged = c.forge();
      PutCachedDer(forged);
      int64_t fetches = Events("trigger = 'fetch'");

      auto crl = MustGet(service);
      ASSERT_NE(crl, nullptr);
      EXPECT_NE(crl->der, forged);
      ExpectValidLocalCrl(crl->der);
      EXPECT_GT(crl->crl_number, number);
      EXPECT_EQ(crl->revoked_count, 1);
      // Repaired: the row is the fresh CRL again, and the event says why.
      EXPECT_EQ(CachedDer(), crl->der);
      EXPECT_EQ(Events("trigger = 'fetch' AND succeeded"), fetches + 1);
    }
  }
}

TEST_F(CrlServiceTest, WaitsForAnotherGeneratorAndServesWhatItWrote) {
  // Another process holds the CRL lock and is about to publish CRL 7.
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  auto lock = OperationLock::Acquire(**other, ops::CrlLockName(kLocalIssuerId),
                                     {"certctld", "replica-b", 2});
  ASSERT_TRUE(lock.ok());
  std::string theirs = SignCrl(LocalCa(), 7, Now(), Now() + hours(24));
  testing::LogCapture log;
  std::thread generator([&] {
    // The service found no cached CRL and goes for the lock held here.
    EXPECT_TRUE(testing::Eventually([&] { return log.Contains("no cached CRL"); }));
    CrlCacheRecord row;
    row.issuer_id = kLocalIssuerId;
    row.generation = 1;
    row.crl_der = theirs;
    row.crl_number = 7;
    row.this_update = Now();
    row.next_update = Now() + hours(24);
    row.generated_at = Now();
    EXPECT_TRUE(
        (*other)->Run([&](Transaction& tx) { return CrlRepo::Upsert(tx, row); }).ok());
    lock->reset();
  });
  ops::CrlServiceOptions options = Always();
  options.generation_wait = std::chrono::seconds(10);
  ops::OpContext ctx = Context();
  ctx.logger = log.logger();
  ops::CrlService service(ctx, options);
  auto served = service.Get(kLocalIssuerId, std::nullopt);
  generator.join();
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->crl->der, theirs);
  EXPECT_EQ(Events(), 0);  // nothing signed here
}

TEST_F(CrlServiceTest, StillBusyAfterTheWaitRereadsTheCache) {
  auto other = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(other.ok());
  auto lock = OperationLock::Acquire(**other, ops::CrlLockName(kLocalIssuerId),
                                     {"certctld", "replica-b", 2});
  ASSERT_TRUE(lock.ok());
  ops::CrlServiceOptions options = Always();
  options.generation_wait = std::chrono::milliseconds(300);
  ops::CrlService service(Context(), options);
  // Nothing written by the holder yet and nothing in memory: unavailable, not an error
  // page.
  auto nothing = service.Get(kLocalIssuerId, std::nullopt);
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(nothing.status().message().find("replica-b"), std::string::npos)
      << nothing.status().message();
  // The holder writes its CRL while the next Get waits for the lock (long
  // enough for the write to land), and keeps the lock.
  std::string theirs = SignCrl(LocalCa(), 3, Now(), Now() + hours(24));
  testing::LogCapture log;
  ops::OpContext ctx = Context();
  ctx.logger = log.logger();
  options.generation_wait = std::chrono::seconds(3);
  ops::CrlService waiting(ctx, options);
  std::thread writer([&] {
    EXPECT_TRUE(testing::Eventually([&] { return log.Contains("no cached CRL"); }));
    CrlCacheRecord row{kLocalIssuerId, 1, theirs, 3, Now(), Now() + hours(24), Now()};
    EXPECT_TRUE(
        (*other)->Run([&](Transaction& tx) { return CrlRepo::Upsert(tx, row); }).ok());
  });
  auto served = waiting.Get(kLocalIssuerId, std::nullopt);
  writer.join();
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->crl->der, theirs);
  EXPECT_EQ(Events(), 0);
}

TEST_F(CrlServiceTest, InvalidateMakesTheNextGetLookAgain) {
  ops::CrlService service(Context());  // default: trusts memory for a few seconds
  auto first = MustGet(service);
  Regenerate(ops::CrlTrigger::kAdmin);
  EXPECT_EQ(MustGet(service)->crl_number, first->crl_number);  // memory, no query
  service.Invalidate(kLocalIssuerId);
  EXPECT_EQ(MustGet(service)->crl_number, first->crl_number + 1);
}

TEST_F(CrlServiceTest, ConcurrentColdGetsSignOnce) {
  ops::CrlService service(Context());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (service.Get(kLocalIssuerId, std::nullopt).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(Events("trigger = 'fetch'"), 1);
}

TEST_F(CrlServiceTest, UnknownIssuerAndGenerationAreNotFound) {
  ops::CrlService service(Context());
  EXPECT_EQ(service.Get("iss-nope", std::nullopt).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service.Get(kLocalIssuerId, 42).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Count("crl_cache"), 0);
  EXPECT_EQ(Events(), 0);
}

TEST_F(CrlServiceTest, MalformedIssuerIdsAreRefusedBeforeAnyLookup) {
  using namespace std::string_literals;
  ops::CrlService service(Context());
  for (const std::string& issuer : {"iss-local\0x"s, "iss-local\n"s, "ISS"s, ""s}) {
    EXPECT_EQ(service.Get(issuer, std::nullopt).status().code(),
              StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(service.Get(kLocalIssuerId, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service.MemoryEntries(), 0u);
  EXPECT_EQ(Count("crl_cache"), 0);
}

// Restarts the harness cluster when the test ends, also on failure.
struct RestartClusterAtExit {
  ~RestartClusterAtExit() {
    Status s = TestCluster::Get().Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
};

TEST_F(CrlServiceTest, OutageServesMemoryUntilNextUpdateThenUnavailable) {
  FakeClock clock(std::chrono::system_clock::now());
  ops::OpContext ctx{db(),      config_,
                     clock,     NullLogger(),
                     *keyring_, ops::Actor{"certctld", "test-host", "certctld", ""}};
  ops::CrlService service(ctx, Always());
  auto good = MustGet(service);
  ASSERT_NE(good, nullptr);
  {
    RestartClusterAtExit restart;
    // The harness runs with synchronous_commit=off: flush before pulling the plug.
    Sql(url_, "CHECKPOINT");
    ASSERT_TRUE(TestCluster::Get().Stop().ok());
    service.Invalidate(
        kLocalIssuerId);  // even a NOTIFY cannot make it drop the last good CRL
    auto during = service.Get(kLocalIssuerId, std::nullopt);
    ASSERT_TRUE(during.ok()) << during.status().ToString();
    EXPECT_TRUE(during->from_memory);
    EXPECT_EQ(during->crl->der, good->der);
    clock.Advance(hours(24 * 6));  // still before nextUpdate (7 days)
    auto later = service.Get(kLocalIssuerId, 1);
    ASSERT_TRUE(later.ok()) << later.status().ToString();
    EXPECT_TRUE(later->from_memory);
    // Made-up generations while the database is away: refused, and nothing
    // is kept for them (each used to leave an entry behind for good).
    size_t held = service.MemoryEntries();
    for (int g = 2; g < 200; ++g) {
      EXPECT_EQ(service.Get(kLocalIssuerId, g).status().code(), StatusCode::kUnavailable);
    }
    EXPECT_EQ(service.MemoryEntries(), held);
    clock.Advance(hours(24 * 2));  // past nextUpdate: never serve an expired CRL
    auto expired = service.Get(kLocalIssuerId, std::nullopt);
    ASSERT_FALSE(expired.ok());
    EXPECT_EQ(expired.status().code(), StatusCode::kUnavailable);
  }
  // Back: the expired CRL in memory and in crl_cache is replaced by a fresh one.
  auto back = service.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->from_memory);
  EXPECT_GT(back->crl->crl_number, good->crl_number);
  EXPECT_GT(back->crl->next_update, clock.Now());
}

}  // namespace
}  // namespace certctl
