#include "certctl/ops/audit_ops.h"

#include <algorithm>

#include "certctl/store/audit_repo.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

constexpr int kMaxLimit = 100000;

nlohmann::json EventJson(const AuditEvent& e) {
  // parameters is jsonb in the database, so it always parses; keep the text
  // if it somehow does not rather than failing the whole listing.
  nlohmann::json parameters = nlohmann::json::parse(e.parameters_json, nullptr, false);
  if (parameters.is_discarded()) parameters = e.parameters_json;
  return {
      {"id", e.id},
      {"occurred_at", FormatRfc3339(e.occurred_at)},
      {"actor", e.actor},
      {"host", e.host},
      {"action", e.action},
      {"target", e.target},
      {"outcome", std::string(AuditOutcomeName(e.outcome))},
      {"command_line", e.command_line},
      {"parameters", parameters},
      {"detail", e.detail},
      {"duration_ms", e.duration_ms ? nlohmann::json(*e.duration_ms) : nlohmann::json()},
      {"correlation_id", e.correlation_id}};
}

}  // namespace

Result<TimePoint> ParseSince(std::string_view text, TimePoint now) {
  if (auto d = ParseDuration(text); d.ok()) return now - *d;
  if (auto t = ParseRfc3339(text); t.ok()) return *t;
  return Status::InvalidArgument(
      "invalid --since \"" + std::string(text) +
      "\": expected a time (2026-11-27T17:00:00Z), a date "
      "(2026-11-27) or a duration back from now (90s, 15m, 24h, 7d)");
}

Status ListAuditEvents(OpContext& ctx, const AuditQuery& query, OpReport& report) {
  report.operation = "audit.list";
  report.target = "audit_events";
  auto started = std::chrono::steady_clock::now();
  if (query.limit < 1 || query.limit > kMaxLimit) {
    return report.status = Status::InvalidArgument("--limit must be between 1 and " +
                                                   std::to_string(kMaxLimit));
  }
  // One more than asked tells whether the limit cut anything off.
  AuditFilter filter{query.since, query.action, query.actor,
                     std::min(query.limit + 1, kMaxLimit)};
  auto events = ctx.db.Query<std::vector<AuditEvent>>(
      [&](Transaction& tx) { return AuditRepo::List(tx, filter); });
  if (!events.ok()) return report.status = events.status();
  bool limited = static_cast<int>(events->size()) > query.limit;
  if (limited) events->erase(events->begin());  // oldest first: drop the extra oldest
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *events) list.push_back(EventJson(e));
  report.data["events"] = list;
  report.data["count"] = events->size();
  report.data["limited"] = limited;
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  return report.status = Status::Ok();
}

}  // namespace certctl::ops
