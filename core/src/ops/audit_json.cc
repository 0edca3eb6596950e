#include "certctl/ops/audit_json.h"

#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

template <typename T>
nlohmann::json List(const std::vector<T>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(ToJson(item));
  return out;
}

}  // namespace

nlohmann::json ToJson(const AuditEvent& e) {
  // parameters is jsonb in the database, so it always parses; keep the text
  // if it somehow does not rather than failing the whole listing.
  nlohmann::json parameters = nlohmann::json::parse(e.parameters_json, nullptr, false);
  if (parameters.is_discarded()) parameters = e.parameters_json;
  return {{"id", e.id},
          {"occurred_at", FormatRfc3339(e.occurred_at)},
          {"actor", e.actor},
          {"host", e.host},
          {"action", e.action},
          {"target", e.target},
          {"outcome", std::string(AuditOutcomeName(e.outcome))},
          {"command_line", e.command_line},
          {"parameters", parameters},
          {"detail", e.detail},
          {"duration_ms", OrNull(e.duration_ms)},
          {"correlation_id", e.correlation_id}};
}

nlohmann::json ToJson(const AuditEventList& list) {
  return {{"events", List(list.events)},
          {"count", list.events.size()},
          {"limited", list.limited}};
}

nlohmann::json ToJson(const audit::ChainBreak& b) {
  nlohmann::json null;
  return {{"kind", b.kind},
          {"id", b.id ? nlohmann::json(b.id) : null},
          {"count", b.count},
          {"message", b.message},
          {"key", b.key},
          {"acknowledged_by", OrNull(b.acknowledged_by)},
          {"reason", b.acknowledged_by ? nlohmann::json(b.acknowledged_reason) : null}};
}

nlohmann::json ToJson(const audit::NamedAnchor& a) {
  return {{"file", a.source},
          {"id", a.head.id},
          {"seq", a.head.seq},
          {"written_at", FormatRfc3339(a.head.written_at)}};
}

nlohmann::json ToJson(const AuditLogVerified& r) {
  nlohmann::json head = nullptr;
  if (r.head) {
    head = {{"id", r.head->id}, {"seq", r.head->seq}, {"hash", HexEncode(r.head->hash)}};
  }
  return {{"rows_checked", r.rows_checked},
          {"unkeyed_rows", r.unkeyed_rows},
          {"keyed_rows", r.keyed_rows},
          {"key_id", r.key_id},
          {"head", head},
          {"anchors", List(r.anchors)},
          {"intact", r.intact},
          {"breaks", List(r.breaks)},
          {"unlisted_breaks", r.unlisted_breaks},
          {"acknowledged", r.acknowledged},
          {"first_broken_id", OrNull(r.first_broken_id)},
          {"problem", OrNull(r.problem)}};
}

nlohmann::json ToJson(const AuditBreaksAcknowledged& r) {
  return {{"acknowledged", List(r.acknowledged)},
          {"anchors", r.anchors},
          {"event_id", OrNull(r.event_id)}};
}

}  // namespace certctl::ops
