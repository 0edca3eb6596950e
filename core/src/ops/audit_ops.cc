#include "certctl/ops/audit_ops.h"

#include <algorithm>

#include "certctl/util/time_format.h"
#include "store/audit_action_repo.h"
#include "store/audit_repo.h"

namespace certctl::ops {
namespace {

constexpr int kMaxLimit = 100000;

}  // namespace

Result<TimePoint> ParseSince(std::string_view text, TimePoint now) {
  if (auto d = ParseDuration(text); d.ok()) return now - *d;
  if (auto t = ParseRfc3339(text); t.ok()) return *t;
  return Status::InvalidArgument(
      "invalid --since \"" + std::string(text) +
      "\": expected a time (2026-11-27T17:00:00Z), a date "
      "(2026-11-27) or a duration back from now (90s, 15m, 24h, 7d)");
}

Result<AuditEventList> ListAuditEvents(OpContext& ctx, const AuditQuery& query,
                                       OpReport& report) {
  report.operation = "audit.list";
  report.target = "audit_events";
  auto started = std::chrono::steady_clock::now();
  if (query.limit < 1 || query.limit > kMaxLimit) {
    return Status::InvalidArgument("--limit must be between 1 and " +
                                   std::to_string(kMaxLimit));
  }
  // One more than asked tells whether the limit cut anything off.
  AuditFilter filter{query.since, query.action, query.actor,
                     std::min(query.limit + 1, kMaxLimit)};
  AuditEventList list;
  ASSIGN_OR_RETURN(list.events,
                   ctx.db.Query<std::vector<AuditEvent>>(
                       [&](Transaction& tx) { return AuditRepo::List(tx, filter); }));
  list.limited = static_cast<int>(list.events.size()) > query.limit;
  // Oldest first: drop the extra oldest.
  if (list.limited) list.events.erase(list.events.begin());
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return list;
}

Result<std::vector<std::string>> ListAuditActions(OpContext& ctx) {
  return ctx.db.Query<std::vector<std::string>>(
      [](Transaction& tx) { return AuditActionRepo::Distinct(tx); });
}

}  // namespace certctl::ops
