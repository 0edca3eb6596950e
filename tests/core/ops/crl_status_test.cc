// DescribeCrls verdicts, VerifyFetchedCrl findings and InvalidateCrlCache.
#include <gtest/gtest.h>

#include "certctl/util/time_format.h"
#include "core/ops/crl_fixture.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using std::chrono::hours;
using testing::OpRun;
using testing::Sql;

TimePoint Now() {
  return FromUnixSeconds(ToUnixSeconds(std::chrono::system_clock::now()));
}

class CrlStatusTest : public testing::CrlOpsTest {
 protected:
  // The one generation of iss-local in DescribeCrls' result, as JSON.
  nlohmann::json Describe(OpRun<ops::CrlStatus>& report, int events = 5) {
    auto ctx = Context();
    report.result = ops::DescribeCrls(ctx, kLocalIssuerId, events, report);
    EXPECT_TRUE(report.result.ok()) << report.status().ToString();
    if (!report.result.ok()) return nullptr;
    EXPECT_EQ(report->issuers.size(), 1u);
    return ops::ToJson(*report.result)["issuers"][0]["generations"][0];
  }

  // Asserts the verdict and its finding.
  void ExpectVerdict(const std::string& verdict) {
    OpRun<ops::CrlStatus> report;
    auto gen = Describe(report);
    EXPECT_EQ(gen["verdict"], verdict) << gen.dump(2);
    ASSERT_EQ(report.findings.size(), 1u)
        << ops::ReportJson(report, report.result).dump(2);
    EXPECT_EQ(report.findings[0].code, "crl." + verdict);
    EXPECT_EQ(report.findings[0].severity, "error");
    EXPECT_EQ(report.findings[0].subject, "iss-local/g1");
    EXPECT_TRUE(report.has_errors());
  }

  OpRun<ops::FetchedCrlVerified> Verify(const std::string& der) {
    auto ctx = Context();
    OpRun<ops::FetchedCrlVerified> report;
    report.result = ops::VerifyFetchedCrl(ctx, kLocalIssuerId, "", der, report);
    EXPECT_TRUE(report.result.ok()) << report.status().ToString();
    return report;
  }

  static std::vector<std::string> Codes(const ops::OpReport& report) {
    std::vector<std::string> out;
    for (const auto& f : report.findings) out.push_back(f.code);
    return out;
  }
};

TEST_F(CrlStatusTest, OkHasTheDocumentedLayout) {
  Revoke(Issue().serial);
  Regenerate(ops::CrlTrigger::kScheduled);
  OpRun<ops::CrlStatus> report;
  auto gen = Describe(report);
  EXPECT_TRUE(report.findings.empty());
  EXPECT_EQ(report->issuers[0].issuer, "iss-local");
  EXPECT_EQ(ops::ToJson(*report.result)["issuers"][0]["issuer"], "iss-local");
  EXPECT_EQ(gen["generation"], 1);
  EXPECT_EQ(gen["verdict"], "ok");
  EXPECT_EQ(gen["database_revoked_count"], 1);
  const auto& cache = gen["cache"];
  for (const char* key : {"size", "crl_number", "this_update", "next_update",
                          "generated_at", "duration_ms", "revoked_count"}) {
    EXPECT_TRUE(cache.contains(key)) << key;
  }
  EXPECT_EQ(cache["crl_number"], 1);
  EXPECT_EQ(cache["revoked_count"], 1);
  EXPECT_EQ(cache["size"], CachedDer().size());
  EXPECT_TRUE(ParseRfc3339(cache["next_update"].get<std::string>()).ok());
  ASSERT_EQ(gen["events"].size(), 1u);
  const auto& e = gen["events"][0];
  EXPECT_TRUE(ParseRfc3339(e["started_at"].get<std::string>()).ok());
  EXPECT_EQ(e["succeeded"], true);
  EXPECT_TRUE(e["error"].is_null());
  EXPECT_EQ(e["crl_number"], 1);
  EXPECT_EQ(e["revoked_count"], 1);
  EXPECT_EQ(e["crl_size"], CachedDer().size());
  EXPECT_EQ(e["trigger"], "scheduled");
  EXPECT_FALSE(e["runner"].get<std::string>().empty());
  // The newest events first, limited.
  Regenerate(ops::CrlTrigger::kAdmin);
  OpRun<ops::CrlStatus> limited;
  gen = Describe(limited, 1);
  ASSERT_EQ(gen["events"].size(), 1u);
  EXPECT_EQ(gen["events"][0]["trigger"], "admin");
}

TEST_F(CrlStatusTest, Missing) {
  ExpectVerdict("missing");
  OpRun<ops::CrlStatus> report;
  EXPECT_TRUE(Describe(report)["cache"].is_null());
  EXPECT_FALSE(report->issuers[0].generations[0].cache.has_value());
}

TEST_F(CrlStatusTest, CorruptGarbageBytes) {
  Regenerate();
  PutCachedDer("\xde\xad\xbe\xef garbage");
  ExpectVerdict("corrupt");
}

TEST_F(CrlStatusTest, BadSignatureFromAnotherKey) {
  Regenerate();
  PutCachedDer(SignCrl(Impostor(), 1, Now(), Now() + hours(24)));
  ExpectVerdict("bad_signature");
}

TEST_F(CrlStatusTest, StaleWhenNextUpdateHasPassed) {
  Regenerate();
  PutCachedDer(SignCrl(LocalCa(), 1, Now() - hours(48), Now() - hours(1)));
  ExpectVerdict("stale");
}

TEST_F(CrlStatusTest, CountMismatchAfterARevocationNotYetPublished) {
  Regenerate();
  Revoke(Issue().serial);
  ExpectVerdict("count_mismatch");
  OpRun<ops::CrlStatus> report;
  EXPECT_EQ(Describe(report)["database_revoked_count"], 1);
  EXPECT_EQ(report->issuers[0].generations[0].verdict, ops::CrlVerdict::kCountMismatch);
}

TEST_F(CrlStatusTest, AllIssuersAndBadArguments) {
  auto ctx = Context();
  ops::OpReport report;
  auto all = ops::DescribeCrls(ctx, "", 0, report);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->issuers.size(), 1u);
  EXPECT_EQ(all->issuers[0].generations[0].events.size(), 0u);
  ops::OpReport unknown;
  EXPECT_EQ(ops::DescribeCrls(ctx, "iss-nope", 5, unknown).status().code(),
            StatusCode::kNotFound);
  ops::OpReport negative;
  EXPECT_EQ(ops::DescribeCrls(ctx, kLocalIssuerId, -1, negative).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(CrlStatusTest, VerifyAcceptsTheServedCrl) {
  auto leaf = Issue();
  Revoke(leaf.serial);
  Regenerate();
  auto report = Verify(CachedDer());
  EXPECT_TRUE(report.findings.empty()) << ops::ReportJson(report, report.result).dump(2);
  EXPECT_EQ(report->generation, 1);
  ASSERT_TRUE(report->contents && report->serials);
  EXPECT_EQ(report->contents->crl_number, 1);
  EXPECT_EQ(report->contents->entries, 1);
  EXPECT_EQ(report->serials->database_revoked_count, 1);
  EXPECT_EQ(report->serials->missing_count, 0);
  EXPECT_EQ(report->serials->extra_count, 0);
}

TEST_F(CrlStatusTest, VerifyFindsEachProblem) {
  auto leaf = Issue();
  Revoke(leaf.serial);
  auto ca = LocalCa();
  std::string good = SignCrl(ca, 5, Now(), Now() + hours(24), {leaf.serial});

  EXPECT_EQ(Codes(Verify("<html>502 Bad Gateway</html>")),
            std::vector<std::string>{"crl.unparseable"});
  EXPECT_EQ(
      Codes(Verify(SignCrl(Impostor(), 5, Now(), Now() + hours(24), {leaf.serial}))),
      std::vector<std::string>{"crl.bad_signature"});
  std::string tampered = good;
  tampered.back() ^= 0x5a;
  EXPECT_EQ(Codes(Verify(tampered)), std::vector<std::string>{"crl.bad_signature"});
  EXPECT_EQ(
      Codes(Verify(SignCrl(ca, 5, Now() - hours(48), Now() - hours(1), {leaf.serial}))),
      std::vector<std::string>{"crl.expired"});

  auto missing = Verify(SignCrl(ca, 5, Now(), Now() + hours(24)));
  EXPECT_EQ(Codes(missing), std::vector<std::string>{"crl.missing_serials"});
  ASSERT_TRUE(missing->serials.has_value());
  EXPECT_EQ(missing->serials->missing_serials, std::vector<std::string>{leaf.serial});
  EXPECT_EQ(missing->serials->missing_count, 1);

  auto extra = Verify(SignCrl(ca, 5, Now(), Now() + hours(24), {leaf.serial, "abc123"}));
  EXPECT_EQ(Codes(extra), std::vector<std::string>{"crl.extra_serials"});
  ASSERT_TRUE(extra->serials.has_value());
  EXPECT_EQ(extra->serials->extra_serials, std::vector<std::string>{"abc123"});

  auto ctx = Context();
  ops::OpReport unknown;
  EXPECT_EQ(ops::VerifyFetchedCrl(ctx, "iss-nope", "", good, unknown).status().code(),
            StatusCode::kNotFound);
}

TEST_F(CrlStatusTest, InvalidateDeletesTheRowAndSaysWhatTheNextFetchDoes) {
  Revoke(Issue().serial);
  Regenerate();
  int64_t audit = Count("audit_events");

  auto dry = Context(/*dry_run=*/true);
  ops::OpReport plan;
  auto planned = ops::InvalidateCrlCache(dry, kLocalIssuerId, plan);
  ASSERT_TRUE(planned.ok());
  EXPECT_EQ(Count("crl_cache"), 1);
  EXPECT_EQ(Count("audit_events"), audit);
  EXPECT_EQ(planned->rows_to_delete, 1);
  EXPECT_EQ(planned->rows_deleted, 0);
  ASSERT_EQ(plan.plan.size(), 1u);

  auto ctx = Context();
  ops::OpReport report;
  auto invalidated = ops::InvalidateCrlCache(ctx, kLocalIssuerId, report);
  ASSERT_TRUE(invalidated.ok());
  EXPECT_EQ(Count("crl_cache"), 0);
  EXPECT_EQ(invalidated->issuer, "iss-local");
  EXPECT_EQ(invalidated->rows_deleted, 1);
  ASSERT_TRUE(invalidated->before && invalidated->after);
  EXPECT_EQ(invalidated->before->cached_crls, 1);
  EXPECT_EQ(invalidated->after->cached_crls, 0);
  std::string next = invalidated->next_fetch;
  EXPECT_NE(next.find("signs one live"), std::string::npos) << next;
  EXPECT_NE(next.find("CRL number 2"), std::string::npos) << next;
  EXPECT_NE(next.find("1 entries"), std::string::npos) << next;
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'crl.invalidate'"),
            "started,succeeded");

  // What the report promised: the next fetch signs live and writes back.
  ops::CrlService service(Context());
  auto served = service.Get(kLocalIssuerId, std::nullopt);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->crl->crl_number, 2);
  EXPECT_EQ(served->crl->revoked_count, 1);
  EXPECT_EQ(CachedRow()->crl_number, 2);
  EXPECT_EQ(Events("trigger = 'fetch' AND succeeded"), 1);
}

TEST_F(CrlStatusTest, InvalidateIsLockedAndRefusesUnknownIssuers) {
  Regenerate();
  auto held = OperationLock::Acquire(db(), ops::CrlLockName(kLocalIssuerId),
                                     {"certctld", "host-q", 99});
  ASSERT_TRUE(held.ok());
  auto ctx = Context();
  ops::OpReport busy;
  Status s = ops::InvalidateCrlCache(ctx, kLocalIssuerId, busy).status();
  EXPECT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_NE(s.message().find("host-q"), std::string::npos);
  EXPECT_EQ(Count("crl_cache"), 1);
  int64_t audit = Count("audit_events");
  ops::OpReport unknown;
  EXPECT_EQ(ops::InvalidateCrlCache(ctx, "iss-nope", unknown).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Count("audit_events"), audit);
}

}  // namespace
}  // namespace certctl
