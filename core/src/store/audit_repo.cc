#include "certctl/store/audit_repo.h"

#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kColumns[] =
    "id, extract(epoch from occurred_at), actor, host, action, target, outcome, "
    "command_line, "
    "parameters::text, detail, duration_ms, correlation_id, prev_hash, hash";

AuditOutcome OutcomeFrom(const std::string& s) {
  if (s == "started") return AuditOutcome::kStarted;
  if (s == "failed") return AuditOutcome::kFailed;
  return AuditOutcome::kSucceeded;
}

AuditEvent EventFrom(const pqxx::row& r) {
  AuditEvent e;
  e.id = r[0].as<int64_t>();
  e.occurred_at = TimeFrom(r[1]);
  e.actor = r[2].as<std::string>();
  e.host = r[3].as<std::string>();
  e.action = r[4].as<std::string>();
  e.target = r[5].as<std::string>();
  e.outcome = OutcomeFrom(r[6].as<std::string>());
  e.command_line = r[7].as<std::string>();
  e.parameters_json = r[8].as<std::string>();
  e.detail = r[9].as<std::string>();
  if (!r[10].is_null()) e.duration_ms = r[10].as<int64_t>();
  e.correlation_id = r[11].as<std::string>();
  e.prev_hash = BytesFrom(r[12]);
  e.hash = BytesFrom(r[13]);
  return e;
}

}  // namespace

std::string_view AuditOutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kStarted:
      return "started";
    case AuditOutcome::kSucceeded:
      return "succeeded";
    case AuditOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

Result<AuditEvent> AuditRepo::Append(Transaction& tx, const AuditEvent& e) {
  static const std::string sql =
      "INSERT INTO audit_events (actor, host, action, target, outcome, command_line, "
      "parameters, detail, duration_ms, correlation_id, prev_hash, hash) VALUES ($1, $2, "
      "$3, "
      "$4, $5, $6, $7::jsonb, $8, NULLIF($9, '')::integer, $10, '\\x', '\\x') "
      "RETURNING " +
      std::string(kColumns);
  return GuardValue<AuditEvent>("append audit event", [&] {
    auto r = tx.Exec(
        "audit_append", sql.c_str(), e.actor, e.host, e.action, e.target,
        std::string(AuditOutcomeName(e.outcome)), e.command_line,
        e.parameters_json.empty() ? std::string("{}") : e.parameters_json, e.detail,
        e.duration_ms ? std::to_string(*e.duration_ms) : std::string(), e.correlation_id);
    return EventFrom(r[0]);
  });
}

Result<std::vector<AuditEvent>> AuditRepo::List(Transaction& tx, const AuditFilter& f) {
  static const std::string sql =
      "SELECT * FROM (SELECT " + std::string(kColumns) +
      " FROM audit_events WHERE (NOT $1 OR occurred_at >= to_timestamp($2)) "
      "AND ($3 = '' OR action = $3) AND ($4 = '' OR actor = $4) "
      "ORDER BY id DESC LIMIT $5) newest ORDER BY id";
  if (f.limit < 1 || f.limit > 100000) {
    return Status::InvalidArgument("limit must be between 1 and 100000");
  }
  return GuardValue<std::vector<AuditEvent>>("list audit events", [&] {
    std::vector<AuditEvent> out;
    auto rows = tx.Exec("audit_list", sql.c_str(), f.since.has_value(),
                        f.since ? EpochParam(*f.since) : 0.0, f.action, f.actor, f.limit);
    for (const auto& r : rows) out.push_back(EventFrom(r));
    return out;
  });
}

Result<AuditChainReport> AuditRepo::VerifyChain(Transaction& tx) {
  return GuardValue<AuditChainReport>("verify audit chain", [&] {
    AuditChainReport report;
    // A cursor keeps memory flat however long the log is.
    pqxx::icursorstream cursor(
        tx.work(),
        "SELECT id, prev_hash, hash, audit_event_digest(prev_hash, e) AS expected "
        "FROM audit_events e ORDER BY id",
        "audit_verify", 1000);
    std::string previous;
    bool first = true;
    pqxx::result batch;
    while (cursor >> batch) {
      for (const auto& r : batch) {
        int64_t id = r[0].as<int64_t>();
        std::string prev = BytesFrom(r[1]), hash = BytesFrom(r[2]),
                    expected = BytesFrom(r[3]);
        ++report.rows_checked;
        if (!first && prev != previous) {
          report.first_broken_id = id;
          report.problem =
              "prev_hash does not match the hash of the row before it "
              "(a row was removed or rewritten)";
          return report;
        }
        if (first && !prev.empty()) {
          report.first_broken_id = id;
          report.problem =
              "the first row does not start the chain (rows before it are missing)";
          return report;
        }
        if (hash != expected) {
          report.first_broken_id = id;
          report.problem = "hash does not match the row's content (the row was modified)";
          return report;
        }
        previous = hash;
        first = false;
      }
    }
    return report;
  });
}

}  // namespace certctl
