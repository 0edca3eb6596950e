// Cache procedures: `cache truncate` and `cache verify`.
#include "certctl/ops/cache_ops.h"

#include <set>

#include "certctl/pki/ocsp.h"
#include "certctl/pki/serial.h"
#include "certctl/util/time_format.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"
#include "store/ocsp_repo.h"

namespace certctl::ops {
namespace {

constexpr char kGlobalCacheLock[] = "cache:*";
constexpr int kScanBatch = 500;

Result<CacheRowCounts> CountScope(OpContext& ctx, const TruncateScope& s) {
  return ctx.db.Query<CacheRowCounts>([&](Transaction& tx) -> Result<CacheRowCounts> {
    CacheRowCounts c;
    if (!s.issuer.empty()) {
      ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, s.issuer));
      if (!found) return Status::NotFound("unknown issuer " + s.issuer);
    }
    if (s.crl) {
      ASSIGN_OR_RETURN(c.crl_rows, InvalidationRepo::CountCrls(tx, s.issuer));
    }
    if (s.ocsp) {
      ASSIGN_OR_RETURN(c.ocsp_rows,
                       InvalidationRepo::CountOcspAnswers(tx, s.issuer, s.serial));
    }
    return c;
  });
}

std::string Where(const TruncateScope& s) {
  std::string where = s.issuer.empty() ? "every issuer" : s.issuer;
  if (!s.serial.empty()) where += ", serial " + s.serial;
  return where;
}

// The notification that makes running certctld drop the same entries.
Invalidation NotificationFor(const TruncateScope& s) {
  if (s.crl && s.ocsp) return {"all", s.issuer, ""};
  if (s.crl) return {"crl", s.issuer, ""};
  return {"ocsp", s.issuer, s.serial};
}

struct BadRow {
  OcspCacheRecord answer;
  std::string code;
  std::string message;
};

// What is wrong with one cached answer, or nothing.
std::optional<BadRow> Judge(const OcspCacheScanRow& row, TimePoint now) {
  const OcspCacheRecord& a = row.answer;
  auto bad = [&](std::string code, std::string message) {
    return std::optional<BadRow>(BadRow{a, std::move(code), std::move(message)});
  };
  auto parsed = ParseOcspResponse(a.response_der);
  if (!parsed.ok() || parsed->response_status != 0 || parsed->singles.size() != 1 ||
      parsed->singles[0].serial != a.serial ||
      static_cast<int>(parsed->singles[0].status) != a.cert_status) {
    return bad("cache.corrupt", parsed.ok() ? "the stored response does not match its row"
                                            : "the stored response does not parse: " +
                                                  parsed.status().message());
  }
  if (!row.current_responder_serial ||
      *row.current_responder_serial != a.responder_serial) {
    return bad("cache.old_responder", "signed by responder " + a.responder_serial +
                                          ", which is no longer current");
  }
  OcspCertStatus truth = !row.certificate_exists ? OcspCertStatus::kUnknown
                         : row.revocation_reason ? OcspCertStatus::kRevoked
                                                 : OcspCertStatus::kGood;
  auto cached = static_cast<OcspCertStatus>(a.cert_status);
  if (cached != truth) {
    std::string code = cached == OcspCertStatus::kGood      ? "cache.stale_good"
                       : cached == OcspCertStatus::kRevoked ? "cache.stale_revoked"
                                                            : "cache.stale_unknown";
    return bad(code, std::string("cached answer says ") +
                         std::string(OcspCertStatusName(cached)) +
                         " but the database says " +
                         std::string(OcspCertStatusName(truth)));
  }
  if (now >= a.next_update) {
    return bad("cache.expired",
               "nextUpdate " + FormatRfc3339(a.next_update) + " has passed");
  }
  return std::nullopt;
}

Status ScanOcspCache(OpContext& ctx, std::vector<BadRow>& bad, int64_t& scanned) {
  std::optional<OcspCacheCursor> cursor;
  TimePoint now = ctx.clock.Now();
  for (;;) {
    auto page = ctx.db.Query<std::vector<OcspCacheScanRow>>(
        [&](Transaction& tx) { return OcspCacheRepo::Scan(tx, cursor, kScanBatch); });
    if (!page.ok()) return page.status();
    for (const auto& row : *page) {
      ++scanned;
      if (auto b = Judge(row, now)) bad.push_back(std::move(*b));
    }
    if (ctx.progress) ctx.progress->Update("scanning ocsp_response_cache", scanned, -1);
    if (page->size() < static_cast<size_t>(kScanBatch)) return Status::Ok();
    const auto& last = page->back().answer;
    cursor = OcspCacheCursor{last.issuer_id, last.serial, last.cert_id_hash};
  }
}

}  // namespace

Result<CachesTruncated> TruncateCaches(OpContext& ctx, const TruncateScope& scope_in,
                                       OpReport& report) {
  TruncateScope scope = scope_in;
  report.operation = "cache.truncate";
  if (!scope.crl && !scope.ocsp) {
    return Status::InvalidArgument("say which cache: --crl, --ocsp or --all");
  }
  if (!scope.serial.empty()) {
    if (!scope.ocsp || scope.crl) {
      return Status::InvalidArgument("--serial applies to the OCSP cache only");
    }
    ASSIGN_OR_RETURN(auto serial, Serial::Parse(scope.serial));
    scope.serial = serial.hex();
  }
  MutationSpec spec{"cache.truncate",
                    scope.issuer.empty() ? "*" : scope.issuer,
                    {{"crl", scope.crl},
                     {"ocsp", scope.ocsp},
                     {"issuer", scope.issuer},
                     {"serial", scope.serial}},
                    {}};
  if (scope.issuer.empty()) {
    spec.locks.push_back(kGlobalCacheLock);
  } else {
    if (scope.crl) spec.locks.push_back(CrlLockName(scope.issuer));
    if (scope.ocsp) spec.locks.push_back(OcspCacheLockName(scope.issuer));
  }
  return RunMutation(ctx, spec, report, [&]() -> Result<CachesTruncated> {
    CachesTruncated result;
    ASSIGN_OR_RETURN(result.before, CountScope(ctx, scope));
    if (scope.crl) {
      report.plan.push_back("delete " + std::to_string(result.before->crl_rows) +
                            " crl_cache rows of " + Where(scope));
    }
    if (scope.ocsp) {
      report.plan.push_back("delete " + std::to_string(result.before->ocsp_rows) +
                            " ocsp_response_cache rows of " + Where(scope));
    }
    Invalidation note = NotificationFor(scope);
    report.plan.push_back(
        "notify running certctld to drop the same entries from memory (" +
        note.ToPayload() + ")");
    if (ctx.dry_run) return result;
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      if (scope.crl) {
        ASSIGN_OR_RETURN(result.crl_rows_deleted,
                         InvalidationRepo::DropCrls(tx, scope.issuer));
      }
      if (scope.ocsp) {
        ASSIGN_OR_RETURN(result.ocsp_rows_deleted, InvalidationRepo::DropOcspAnswers(
                                                       tx, scope.issuer, scope.serial));
      }
      return InvalidationRepo::Notify(tx, note);
    }));
    if (scope.crl) {
      report.steps.push_back("deleted " + std::to_string(result.crl_rows_deleted) +
                             " crl_cache rows");
    }
    if (scope.ocsp) {
      report.steps.push_back("deleted " + std::to_string(result.ocsp_rows_deleted) +
                             " ocsp_response_cache rows");
    }
    report.steps.push_back("notified running certctld (" + note.ToPayload() + ")");
    ASSIGN_OR_RETURN(result.after, CountScope(ctx, scope));
    return result;
  });
}

namespace {

// Deletes the bad rows that are still as scanned; returns how many.
Result<int64_t> DeleteBadRows(OpContext& ctx, const std::vector<BadRow>& bad) {
  int64_t fixed = 0;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    for (const auto& b : bad) {
      ASSIGN_OR_RETURN(bool deleted, OcspCacheRepo::DeleteIfUnchanged(tx, b.answer));
      if (!deleted) continue;
      ++fixed;
      RETURN_IF_ERROR(
          InvalidationRepo::Notify(tx, {"ocsp", b.answer.issuer_id, b.answer.serial}));
    }
    return Status::Ok();
  }));
  return fixed;
}

}  // namespace

Result<OcspCacheVerified> VerifyOcspCache(OpContext& ctx, bool fix, OpReport& report,
                                          bool audit) {
  auto body = [&]() -> Result<OcspCacheVerified> {
    OcspCacheVerified result;
    std::vector<BadRow> bad;
    RETURN_IF_ERROR(ScanOcspCache(ctx, bad, result.scanned));
    // With fix the bad rows are the work to do, not the outcome: warnings,
    // and the exit status follows the fix (the same in a dry run).
    for (const auto& b : bad) {
      report.AddFinding(
          fix ? "warning" : "error", b.code,
          b.answer.issuer_id + "/" + b.answer.serial + " (" + b.answer.cert_id_hash + ")",
          b.message);
    }
    result.bad = static_cast<int64_t>(bad.size());
    result.before = OcspCacheRows{result.scanned, result.bad};
    if (!fix || bad.empty()) return result;
    report.plan.push_back("delete " + std::to_string(bad.size()) +
                          " bad ocsp_response_cache rows and notify running certctld");
    if (ctx.dry_run) return result;
    ASSIGN_OR_RETURN(result.fixed, DeleteBadRows(ctx, bad));
    report.steps.push_back("deleted " + std::to_string(result.fixed) +
                           " bad cached OCSP answers and notified running certctld");
    result.after = OcspCacheRows{result.scanned - result.fixed, std::nullopt};
    return result;
  };
  if (!fix) {
    report.operation = "cache.verify";
    report.target = "ocsp_response_cache";
    report.dry_run = ctx.dry_run;
    return body();
  }
  MutationSpec spec{
      "cache.verify", "ocsp_response_cache", {{"fix", true}}, {kGlobalCacheLock}, audit};
  return RunMutation(ctx, spec, report, body);
}

}  // namespace certctl::ops
