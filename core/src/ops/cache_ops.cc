// Cache procedures: `cache truncate` and `cache verify`.
#include "certctl/ops/cache_ops.h"

#include <set>

#include "certctl/pki/ocsp.h"
#include "certctl/pki/serial.h"
#include "certctl/store/invalidation.h"
#include "certctl/store/issuer_repo.h"
#include "certctl/store/ocsp_repo.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

constexpr char kGlobalCacheLock[] = "cache:*";
constexpr int kScanBatch = 500;

struct CacheCounts {
  int64_t crl = 0;
  int64_t ocsp = 0;
};

Result<CacheCounts> CountScope(OpContext& ctx, const TruncateScope& s) {
  return ctx.db.Query<CacheCounts>([&](Transaction& tx) -> Result<CacheCounts> {
    CacheCounts c;
    if (!s.issuer.empty()) {
      ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, s.issuer));
      if (!found) return Status::NotFound("unknown issuer " + s.issuer);
    }
    if (s.crl) {
      ASSIGN_OR_RETURN(c.crl, InvalidationRepo::CountCrls(tx, s.issuer));
    }
    if (s.ocsp) {
      ASSIGN_OR_RETURN(c.ocsp,
                       InvalidationRepo::CountOcspAnswers(tx, s.issuer, s.serial));
    }
    return c;
  });
}

nlohmann::json CountsJson(const CacheCounts& c) {
  return {{"crl_rows", c.crl}, {"ocsp_rows", c.ocsp}};
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
  OcspCachedAnswer answer;
  std::string code;
  std::string message;
};

// What is wrong with one cached answer, or nothing.
std::optional<BadRow> Judge(const OcspCacheScanRow& row, TimePoint now) {
  const OcspCachedAnswer& a = row.answer;
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

Status TruncateCaches(OpContext& ctx, const TruncateScope& scope_in, OpReport& report) {
  TruncateScope scope = scope_in;
  report.operation = "cache.truncate";
  report.data = {{"crl_rows_deleted", 0}, {"ocsp_rows_deleted", 0}};
  if (!scope.crl && !scope.ocsp) {
    return report.status =
               Status::InvalidArgument("say which cache: --crl, --ocsp or --all");
  }
  if (!scope.serial.empty()) {
    if (!scope.ocsp || scope.crl) {
      return report.status =
                 Status::InvalidArgument("--serial applies to the OCSP cache only");
    }
    auto serial = Serial::Parse(scope.serial);
    if (!serial.ok()) return report.status = serial.status();
    scope.serial = serial->hex();
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
  return RunMutation(ctx, spec, report, [&]() -> Status {
    ASSIGN_OR_RETURN(CacheCounts before, CountScope(ctx, scope));
    report.before = CountsJson(before);
    if (scope.crl) {
      report.plan.push_back("delete " + std::to_string(before.crl) +
                            " crl_cache rows of " + Where(scope));
    }
    if (scope.ocsp) {
      report.plan.push_back("delete " + std::to_string(before.ocsp) +
                            " ocsp_response_cache rows of " + Where(scope));
    }
    Invalidation note = NotificationFor(scope);
    report.plan.push_back(
        "notify running certctld to drop the same entries from memory (" +
        note.ToPayload() + ")");
    if (ctx.dry_run) return Status::Ok();
    CacheCounts deleted;
    RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
      if (scope.crl) {
        ASSIGN_OR_RETURN(deleted.crl, InvalidationRepo::DropCrls(tx, scope.issuer));
      }
      if (scope.ocsp) {
        ASSIGN_OR_RETURN(deleted.ocsp, InvalidationRepo::DropOcspAnswers(tx, scope.issuer,
                                                                         scope.serial));
      }
      return InvalidationRepo::Notify(tx, note);
    }));
    report.data = {{"crl_rows_deleted", deleted.crl},
                   {"ocsp_rows_deleted", deleted.ocsp}};
    if (scope.crl)
      report.steps.push_back("deleted " + std::to_string(deleted.crl) +
                             " crl_cache rows");
    if (scope.ocsp) {
      report.steps.push_back("deleted " + std::to_string(deleted.ocsp) +
                             " ocsp_response_cache rows");
    }
    report.steps.push_back("notified running certctld (" + note.ToPayload() + ")");
    ASSIGN_OR_RETURN(CacheCounts after, CountScope(ctx, scope));
    report.after = CountsJson(after);
    return Status::Ok();
  });
}

Status VerifyOcspCache(OpContext& ctx, bool fix, OpReport& report, bool audit) {
  report.data = {{"scanned", 0}, {"bad", 0}, {"fixed", 0}};
  auto body = [&]() -> Status {
    std::vector<BadRow> bad;
    int64_t scanned = 0;
    RETURN_IF_ERROR(ScanOcspCache(ctx, bad, scanned));
    for (const auto& b : bad) {
      report.AddFinding(
          "error", b.code,
          b.answer.issuer_id + "/" + b.answer.serial + " (" + b.answer.cert_id_hash + ")",
          b.message);
    }
    report.data["scanned"] = scanned;
    report.data["bad"] = bad.size();
    report.before = {{"ocsp_rows", scanned}, {"bad", bad.size()}};
    if (!fix || bad.empty()) return Status::Ok();
    report.plan.push_back("delete " + std::to_string(bad.size()) +
                          " bad ocsp_response_cache rows and notify running certctld");
    if (ctx.dry_run) return Status::Ok();
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
    report.data["fixed"] = fixed;
    report.steps.push_back("deleted " + std::to_string(fixed) +
                           " bad cached OCSP answers and notified running certctld");
    report.after = {{"ocsp_rows", scanned - fixed}};
    return Status::Ok();
  };
  if (!fix) {
    report.operation = "cache.verify";
    report.target = "ocsp_response_cache";
    report.dry_run = ctx.dry_run;
    return report.status = body();
  }
  MutationSpec spec{
      "cache.verify", "ocsp_response_cache", {{"fix", true}}, {kGlobalCacheLock}, audit};
  return RunMutation(ctx, spec, report, body);
}

}  // namespace certctl::ops
