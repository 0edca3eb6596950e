// `cache truncate` and `cache verify`.
#include "certctl/ops/cache_ops.h"

#include <pqxx/pqxx>

#include "certctl/ops/cache_json.h"
#include "certctl/ops/op_json.h"
#include "ops/ocsp_test_helpers.h"
#include "store/invalidation.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using testing::Sql;

// Collects the invalidation NOTIFYs a running certctld would hear.
class Listener : public pqxx::notification_receiver {
 public:
  Listener(pqxx::connection& c) : pqxx::notification_receiver(c, kInvalidationChannel) {}
  void operator()(const std::string& payload, int) override {
    payloads.push_back(payload);
  }
  std::vector<std::string> payloads;
};

class CacheOpsTest : public testing::OcspFixture {
 protected:
  // Fills ocsp_response_cache with `n` answers and crl_cache with one row.
  std::vector<std::string> Fill(int n) {
    auto service = NewService();
    std::vector<std::string> serials;
    for (int i = 0; i < n; ++i) {
      serials.push_back(Issue("c" + std::to_string(i) + ".example").serial);
      Ask(*service, serials.back());
    }
    // A CRL row (content does not matter to truncation).
    Sql(url_,
        "INSERT INTO crl_cache (issuer_id, generation, crl_der, crl_number, this_update, "
        "next_update) VALUES ('iss-local', 1, '\\x3000', 1, now(), now() + interval '1 "
        "day')");
    return serials;
  }

  std::vector<std::string> Codes(const ops::OpReport& report) {
    std::vector<std::string> out;
    for (const auto& f : report.findings) out.push_back(f.code);
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(CacheOpsTest, TruncateDryRunCountsAndChangesNothing) {
  Fill(3);
  int64_t audit = Count("audit_events");
  auto ctx = Context(/*dry_run=*/true);
  ops::TruncateScope scope{.crl = true, .ocsp = true};
  ops::OpReport report;
  auto result = ops::TruncateCaches(ctx, scope, report);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(result->before.has_value());
  EXPECT_EQ(result->before->crl_rows, 1);
  EXPECT_EQ(result->before->ocsp_rows, 3);
  EXPECT_EQ(result->ocsp_rows_deleted, 0);
  EXPECT_FALSE(result->after.has_value());
  EXPECT_EQ(report.plan.size(), 3u);
  EXPECT_EQ(Count("ocsp_response_cache"), 3);
  EXPECT_EQ(Count("crl_cache"), 1);
  EXPECT_EQ(Count("audit_events"), audit);
}

TEST_F(CacheOpsTest, TruncateDeletesNotifiesAndAudits) {
  auto serials = Fill(3);
  pqxx::connection listen(url_);
  Listener listener(listen);
  auto ctx = Context();
  // One serial, spelled as a person might.
  std::string upper = serials[0];
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ops::TruncateScope one{.ocsp = true, .issuer = kLocalIssuerId, .serial = "0x" + upper};
  ops::OpReport report;
  auto result = ops::TruncateCaches(ctx, one, report);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->ocsp_rows_deleted, 1);
  EXPECT_EQ(result->crl_rows_deleted, 0);
  ASSERT_TRUE(result->before && result->after);
  EXPECT_EQ(result->before->ocsp_rows, 1);
  EXPECT_EQ(result->after->ocsp_rows, 0);
  EXPECT_EQ(Count("ocsp_response_cache"), 2);
  EXPECT_EQ(Count("crl_cache"), 1);
  // Everything else.
  ops::TruncateScope all{.crl = true, .ocsp = true};
  ops::OpReport everything;
  auto all_deleted = ops::TruncateCaches(ctx, all, everything);
  ASSERT_TRUE(all_deleted.ok());
  EXPECT_EQ(all_deleted->ocsp_rows_deleted, 2);
  EXPECT_EQ(all_deleted->crl_rows_deleted, 1);
  EXPECT_EQ(Count("ocsp_response_cache") + Count("crl_cache"), 0);

  while (listener.payloads.size() < 2 && listen.await_notification(5, 0) > 0) {
  }
  ASSERT_EQ(listener.payloads.size(), 2u);
  auto first = Invalidation::FromPayload(listener.payloads[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->scope, "ocsp");
  EXPECT_EQ(first->issuer, kLocalIssuerId);
  EXPECT_EQ(first->serial, serials[0]);
  EXPECT_EQ(Invalidation::FromPayload(listener.payloads[1])->scope, "all");
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'cache.truncate'"),
            "started,succeeded,started,succeeded");
}

TEST_F(CacheOpsTest, TruncateRefusesBadScopesAndHeldLocks) {
  Fill(1);
  auto ctx = Context();
  int64_t audit = Count("audit_events");
  ops::OpReport none;
  EXPECT_EQ(ops::TruncateCaches(ctx, {}, none).status().code(),
            StatusCode::kInvalidArgument);
  ops::OpReport crl_serial;
  EXPECT_EQ(
      ops::TruncateCaches(ctx, {.crl = true, .serial = "ab"}, crl_serial).status().code(),
      StatusCode::kInvalidArgument);
  ops::OpReport bad_serial;
  EXPECT_EQ(ops::TruncateCaches(ctx, {.ocsp = true, .serial = "zz"}, bad_serial)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Count("audit_events"), audit);  // refused before anything started
  ops::OpReport unknown;
  EXPECT_EQ(ops::TruncateCaches(ctx, {.ocsp = true, .issuer = "iss-nowhere"}, unknown)
                .status()
                .code(),
            StatusCode::kNotFound);

  auto lock = OperationLock::Acquire(db(), ops::OcspCacheLockName(kLocalIssuerId),
                                     ThisProcess("another operator"));
  ASSERT_TRUE(lock.ok());
  ops::OpReport busy;
  Status s =
      ops::TruncateCaches(ctx, {.ocsp = true, .issuer = kLocalIssuerId}, busy).status();
  EXPECT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_NE(s.message().find("another operator"), std::string::npos);
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
  EXPECT_EQ(Count("crl_cache"), 1);
}

TEST_F(CacheOpsTest, VerifyFindsEveryKindOfBadRowAndFixRemovesThem) {
  // Six answers: one stays healthy, five are spoilt in five ways.
  auto s = Fill(6);
  Sql(url_, "DELETE FROM crl_cache");
  auto ctx = Context();
  ops::OpReport clean;
  auto clean_scan = ops::VerifyOcspCache(ctx, false, clean);
  ASSERT_TRUE(clean_scan.ok());
  EXPECT_FALSE(clean.has_errors()) << ops::ReportJson(clean, clean_scan).dump(2);
  EXPECT_EQ(clean_scan->scanned, 6);

  // stale good: revoked behind the cache's back.
  std::string good = Sql(url_,
                         "SELECT encode(response_der, 'hex') FROM ocsp_response_cache "
                         "WHERE serial = '" +
                             s[0] + "'");
  Revoke(s[0]);
  Sql(url_,
      "INSERT INTO ocsp_response_cache (issuer_id, serial, cert_id_hash, generation, "
      "cert_status, response_der, this_update, next_update, responder_serial, "
      "revocation_epoch) SELECT 'iss-local', '" +
          s[0] + "', 'sha1', 1, 0, decode('" + good +
          "', 'hex'), now(), now() + interval '4 days', serial_number, 0 FROM "
          "ocsp_responder_certs");
  // stale revoked: a revoked answer whose revocation record is gone.
  Revoke(s[1]);
  Ask(*NewService(), s[1]);
  Sql(url_, "DELETE FROM certificate_revocations WHERE serial = '" + s[1] + "'");
  // expired, old responder, corrupt.
  Sql(url_,
      "UPDATE ocsp_response_cache SET next_update = now() - interval '1 minute' WHERE "
      "serial = '" +
          s[2] + "'");
  Sql(url_, "UPDATE ocsp_response_cache SET responder_serial = 'abc' WHERE serial = '" +
                s[3] + "'");
  Sql(url_, "UPDATE ocsp_response_cache SET response_der = '\\x300100' WHERE serial = '" +
                s[4] + "'");

  ops::OpReport found;
  auto found_scan = ops::VerifyOcspCache(ctx, false, found);
  ASSERT_TRUE(found_scan.ok()) << found_scan.status().ToString();
  EXPECT_EQ(Codes(found), (std::vector<std::string>{
                              "cache.corrupt", "cache.expired", "cache.old_responder",
                              "cache.stale_good", "cache.stale_revoked"}));
  EXPECT_EQ(found_scan->bad, 5);
  EXPECT_EQ(found_scan->fixed, 0);
  EXPECT_EQ(Count("ocsp_response_cache"), 6);

  int64_t audit = Count("audit_events");
  auto dry = Context(/*dry_run=*/true);
  ops::OpReport planned;
  auto planned_scan = ops::VerifyOcspCache(dry, true, planned);
  ASSERT_TRUE(planned_scan.ok());
  EXPECT_EQ(planned_scan->bad, 5);
  EXPECT_EQ(Count("ocsp_response_cache"), 6);
  EXPECT_EQ(Count("audit_events"), audit);

  ops::OpReport fixed;
  auto fixed_scan = ops::VerifyOcspCache(ctx, true, fixed);
  ASSERT_TRUE(fixed_scan.ok()) << fixed_scan.status().ToString();
  EXPECT_EQ(fixed_scan->fixed, 5);
  EXPECT_EQ(Count("ocsp_response_cache"), 1);
  EXPECT_EQ(Sql(url_, "SELECT serial FROM ocsp_response_cache"), s[5]);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'cache.verify'"),
            "started,succeeded");
  ops::OpReport after;
  ASSERT_TRUE(ops::VerifyOcspCache(ctx, false, after).ok());
  EXPECT_FALSE(after.has_errors());
}

}  // namespace
}  // namespace certctl
