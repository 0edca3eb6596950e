#include "store/audit_repo.h"

#include "certctl/audit/chain.h"
#include "store/pg.h"

namespace certctl {
namespace {

// occurred_at as whole microseconds: the digests cover it exactly, which a
// double of epoch seconds would not.
constexpr char kColumns[] =
    "id, (extract(epoch from occurred_at) * 1000000)::bigint, actor, host, action, "
    "target, outcome, command_line, parameters::text, detail, duration_ms, "
    "correlation_id, prev_hash, hash, chain_version, seq, key_id";

AuditOutcome OutcomeFrom(const std::string& s) {
  if (s == "started") return AuditOutcome::kStarted;
  if (s == "failed") return AuditOutcome::kFailed;
  return AuditOutcome::kSucceeded;
}

TimePoint FromMicros(int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

AuditEvent EventFrom(const pqxx::row& r) {
  AuditEvent e;
  e.id = r[0].as<int64_t>();
  e.occurred_at = FromMicros(r[1].as<int64_t>());
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
  e.chain_version = r[14].as<int>();
  if (!r[15].is_null()) e.seq = r[15].as<int64_t>();
  if (!r[16].is_null()) e.key_id = r[16].as<std::string>();
  return e;
}

// Under the chain lock: the head, the new row's id and time, the text fields
// as the server will store them, and the anchored row.
constexpr char kPrepareSql[] =
    "SELECT h.id, h.seq, h.hash, h.key_id, nextval('audit_events_id_seq'), "
    "(extract(epoch FROM date_trunc('microseconds', clock_timestamp())) * 1000000)"
    "::bigint, $1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb::text, "
    "$7::text, $8::text, a.seq, a.hash "
    "FROM (SELECT 1) one "
    "LEFT JOIN LATERAL (SELECT id, seq, hash, key_id FROM audit_events "
    "ORDER BY id DESC LIMIT 1) h ON true "
    "LEFT JOIN audit_events a ON a.id = $9";

constexpr char kInsertSql[] =
    "INSERT INTO audit_events (id, occurred_at, actor, host, action, target, outcome, "
    "command_line, parameters, detail, duration_ms, correlation_id, prev_hash, hash, "
    "chain_version, seq, key_id) VALUES ($1, timestamptz 'epoch' + $2::bigint * "
    "interval '1 microsecond', $3, $4, $5, $6, $7, $8, $9::jsonb, $10, "
    "NULLIF($11, '')::integer, $12, $13, $14, 2, $15, $16)";

Status CheckHeadKey(const pqxx::row& r, const audit::AuditKey& key) {
  if (r[0].is_null() || r[1].is_null()) return Status::Ok();  // empty, or unkeyed head
  std::string head_key = r[3].as<std::string>();
  if (head_key == key.id()) return Status::Ok();
  return Status::FailedPrecondition(
      "this audit key (id " + key.id() + ") is not the one the audit log is signed " +
      "with (its newest row, " + r[0].as<std::string>() + ", names key " + head_key +
      "): refusing to write audit events that would not verify; configure the "
      "log's audit_key");
}

// Fills the new row from the prepared values (everything but its hash).
AuditEvent NextRow(Transaction& tx, const pqxx::row& r, const audit::AuditKey& key,
                   const AuditEvent& e) {
  AuditEvent row = e;
  row.prev_hash = r[0].is_null() ? std::string() : BytesFrom(r[2]);
  if (r[0].is_null()) {
    row.seq = 1;
  } else if (r[1].is_null()) {
    // The head is the last unkeyed row: the keyed chain starts after all of them.
    auto n = tx.Exec("audit_count", "SELECT count(*) FROM audit_events");
    row.seq = n[0][0].as<int64_t>() + 1;
  } else {
    row.seq = r[1].as<int64_t>() + 1;
  }
  row.id = r[4].as<int64_t>();
  row.occurred_at = FromMicros(r[5].as<int64_t>());
  std::string* fields[] = {&row.actor,  &row.host,          &row.action,
                           &row.target, &row.command_line,  &row.parameters_json,
                           &row.detail, &row.correlation_id};
  for (int i = 0; i < 8; ++i) *fields[i] = r[6 + i].as<std::string>();
  row.chain_version = audit::kKeyedChain;
  row.key_id = key.id();
  return row;
}

}  // namespace

Result<AuditAppended> AuditRepo::Append(Transaction& tx, const audit::AuditKey& key,
                                        const AuditEvent& e,
                                        std::optional<int64_t> anchored_id) {
  AuditAppended out;
  Status s = Guard("append audit event", [&]() -> Status {
    tx.Exec("audit_lock",
            "SELECT pg_advisory_xact_lock(hashtextextended('certctl:audit-chain', 0))");
    auto prepared = tx.Exec(
        "audit_prepare", kPrepareSql, e.actor, e.host, e.action, e.target, e.command_line,
        e.parameters_json.empty() ? std::string("{}") : e.parameters_json, e.detail,
        e.correlation_id, anchored_id.value_or(0));
    const pqxx::row& r = prepared[0];
    RETURN_IF_ERROR(CheckHeadKey(r, key));
    out.event = NextRow(tx, r, key, e);
    AuditEvent& row = out.event;
    ASSIGN_OR_RETURN(row.hash, audit::KeyedDigest(key, row));
    tx.Exec("audit_insert", kInsertSql, row.id, audit::OccurredMicros(row), row.actor,
            row.host, row.action, row.target, std::string(AuditOutcomeName(row.outcome)),
            row.command_line, row.parameters_json, row.detail,
            row.duration_ms ? std::to_string(*row.duration_ms) : std::string(),
            row.correlation_id, Bytes(row.prev_hash), Bytes(row.hash), *row.seq,
            row.key_id);
    if (!r[15].is_null()) {
      out.anchored =
          AuditRowRef{r[14].is_null() ? 0 : r[14].as<int64_t>(), BytesFrom(r[15])};
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
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

Status AuditRepo::Scan(Transaction& tx,
                       const std::function<Status(const AuditEvent&)>& visit) {
  return Guard("read the audit log", [&]() -> Status {
    pqxx::icursorstream cursor(
        tx.work(), "SELECT " + std::string(kColumns) + " FROM audit_events ORDER BY id",
        "audit_scan", 1000);
    pqxx::result batch;
    while (cursor >> batch) {
      for (const auto& r : batch) RETURN_IF_ERROR(visit(EventFrom(r)));
    }
    return Status::Ok();
  });
}

Result<std::optional<AuditEvent>> AuditRepo::Head(Transaction& tx) {
  static const std::string sql =
      "SELECT " + std::string(kColumns) + " FROM audit_events ORDER BY id DESC LIMIT 1";
  return GuardValue<std::optional<AuditEvent>>("read the audit head", [&] {
    auto rows = tx.Exec("audit_head", sql.c_str());
    std::optional<AuditEvent> out;
    if (!rows.empty()) out = EventFrom(rows[0]);
    return out;
  });
}

}  // namespace certctl
