#include "store/ocsp_repo.h"

#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kResponderColumns[] =
    "issuer_id, generation, serial_number, cert_subject, cert_pem, "
    "extract(epoch from not_before), extract(epoch from not_after), key_path, "
    "extract(epoch from created_at)";

OcspResponderRecord ResponderFrom(const pqxx::row& r) {
  OcspResponderRecord o;
  o.issuer_id = r[0].as<std::string>();
  o.generation = r[1].as<int>();
  o.serial_number = r[2].as<std::string>();
  o.cert_subject = r[3].as<std::string>();
  o.cert_pem = r[4].as<std::string>();
  o.not_before = TimeFrom(r[5]);
  o.not_after = TimeFrom(r[6]);
  o.key_path = r[7].as<std::string>();
  o.created_at = TimeFrom(r[8]);
  return o;
}

// Timestamps as integer microseconds (MicrosSql): exact, and no text parsing
// of floating point on the answering path.
const std::string kAnswerColumns =
    "a.issuer_id, a.serial, a.cert_id_hash, a.generation, a.cert_status, "
    "a.response_der, " +
    MicrosSql("a.this_update") + ", " + MicrosSql("a.next_update") + ", " +
    MicrosSql("a.produced_at") +
    ", a.responder_serial, a.revocation_epoch, a.answer_digest";
constexpr int kAnswerColumnCount = 12;

OcspCacheRecord CacheRecordFrom(const pqxx::row& r) {
  OcspCacheRecord a;
  a.issuer_id = r[0].as<std::string>();
  a.serial = r[1].as<std::string>();
  a.cert_id_hash = r[2].as<std::string>();
  a.generation = r[3].as<int>();
  a.cert_status = r[4].as<int>();
  a.response_der = BytesFrom(r[5]);
  a.this_update = TimeFromMicros(r[6].as<int64_t>());
  a.next_update = TimeFromMicros(r[7].as<int64_t>());
  a.produced_at = TimeFromMicros(r[8].as<int64_t>());
  a.responder_serial = r[9].as<std::string>();
  a.revocation_epoch = r[10].as<int64_t>();
  if (!r[11].is_null()) a.answer_digest = BytesFrom(r[11]);
  return a;
}

}  // namespace

Result<std::optional<OcspResponderRecord>> OcspResponderRepo::Find(
    Transaction& tx, const std::string& issuer, int generation) {
  static const std::string sql = std::string("SELECT ") + kResponderColumns +
                                 " FROM ocsp_responder_certs WHERE issuer_id = $1 AND "
                                 "generation = $2";
  return GuardValue<std::optional<OcspResponderRecord>>("find OCSP responder", [&] {
    auto r = tx.Exec("ocsp_responder_find", sql.c_str(), issuer, generation);
    if (r.empty()) return std::optional<OcspResponderRecord>();
    return std::optional<OcspResponderRecord>(ResponderFrom(r[0]));
  });
}

Status OcspResponderRepo::Replace(Transaction& tx, const OcspResponderRecord& o,
                                  const std::string& reason, TimePoint now) {
  return Guard("replace OCSP responder", [&] {
    // The current row, if history lacks it (rows from before history was
    // kept this way), goes to history first.
    tx.Exec(
        "ocsp_history_keep_current",
        "INSERT INTO ocsp_responder_cert_history (issuer_id, generation, serial_number, "
        "cert_subject, cert_pem, not_before, not_after, key_path, created_at) "
        "SELECT c.issuer_id, c.generation, c.serial_number, c.cert_subject, c.cert_pem, "
        "c.not_before, c.not_after, c.key_path, c.created_at FROM ocsp_responder_certs c "
        "WHERE c.issuer_id = $1 AND c.generation = $2 AND NOT EXISTS (SELECT 1 FROM "
        "ocsp_responder_cert_history h WHERE h.issuer_id = c.issuer_id AND "
        "h.generation = c.generation AND h.serial_number = c.serial_number)",
        o.issuer_id, o.generation);
    tx.Exec("ocsp_history_mark_replaced",
            "UPDATE ocsp_responder_cert_history SET replaced_at = to_timestamp($3), "
            "replaced_reason = $4 WHERE issuer_id = $1 AND generation = $2 AND "
            "replaced_at IS NULL",
            o.issuer_id, o.generation, EpochParam(now), reason);
    tx.Exec("ocsp_responder_upsert",
            "INSERT INTO ocsp_responder_certs (issuer_id, generation, serial_number, "
            "cert_subject, cert_pem, not_before, not_after, key_path, created_at) VALUES "
            "($1, "
            "$2, $3, $4, $5, to_timestamp($6), to_timestamp($7), $8, to_timestamp($9)) "
            "ON CONFLICT (issuer_id, generation) DO UPDATE SET serial_number = "
            "EXCLUDED.serial_number, cert_subject = EXCLUDED.cert_subject, cert_pem = "
            "EXCLUDED.cert_pem, not_before = EXCLUDED.not_before, not_after = "
            "EXCLUDED.not_after, key_path = EXCLUDED.key_path, created_at = "
            "EXCLUDED.created_at",
            o.issuer_id, o.generation, o.serial_number, o.cert_subject, o.cert_pem,
            EpochParam(o.not_before), EpochParam(o.not_after), o.key_path,
            EpochParam(now));
    tx.Exec(
        "ocsp_history_insert",
        "INSERT INTO ocsp_responder_cert_history (issuer_id, generation, serial_number, "
        "cert_subject, cert_pem, not_before, not_after, key_path, created_at) VALUES "
        "($1, "
        "$2, $3, $4, $5, to_timestamp($6), to_timestamp($7), $8, to_timestamp($9))",
        o.issuer_id, o.generation, o.serial_number, o.cert_subject, o.cert_pem,
        EpochParam(o.not_before), EpochParam(o.not_after), o.key_path, EpochParam(now));
    return Status::Ok();
  });
}

Result<std::vector<OcspResponderHistoryRecord>> OcspResponderRepo::History(
    Transaction& tx, const std::string& issuer, int generation, int limit) {
  static const std::string sql =
      std::string("SELECT ") + kResponderColumns +
      ", extract(epoch from replaced_at), coalesce(replaced_reason, '') FROM "
      "ocsp_responder_cert_history WHERE issuer_id = $1 AND generation = $2 "
      "ORDER BY created_at DESC, id DESC LIMIT $3";
  return GuardValue<
      std::vector<OcspResponderHistoryRecord>>("read OCSP responder history", [&] {
    std::vector<OcspResponderHistoryRecord> out;
    for (const auto& r :
         tx.Exec("ocsp_history_list", sql.c_str(), issuer, generation, limit)) {
      out.push_back({ResponderFrom(r), OptionalTimeFrom(r[9]), r[10].as<std::string>()});
    }
    return out;
  });
}

Result<std::optional<OcspCacheRecord>> OcspCacheRepo::Find(
    Transaction& tx, const std::string& issuer, const std::string& serial,
    const std::string& cert_id_hash) {
  static const std::string sql = "SELECT " + kAnswerColumns +
                                 " FROM ocsp_response_cache a WHERE a.issuer_id = $1 AND "
                                 "a.serial = $2 AND a.cert_id_hash = $3";
  return GuardValue<std::optional<OcspCacheRecord>>("read cached OCSP answer", [&] {
    auto r = tx.Exec("ocsp_cache_find", sql.c_str(), issuer, serial, cert_id_hash);
    if (r.empty()) return std::optional<OcspCacheRecord>();
    return std::optional<OcspCacheRecord>(CacheRecordFrom(r[0]));
  });
}

Result<bool> OcspCacheRepo::PutIfEpochUnchanged(Transaction& tx,
                                                const OcspCacheRecord& a) {
  // FOR SHARE waits for a revocation holding the issuer row and then
  // re-checks the WHERE clause against the committed epoch; see the header.
  // Timestamps travel as integer microseconds, exactly as they are read back
  // (the answer digest covers them).
  return GuardValue<bool>("write back OCSP answer", [&] {
    auto r = tx.Exec(
        "ocsp_cache_put",
        "WITH current AS (SELECT id FROM issuers WHERE id = $1 AND revocation_epoch = "
        "$11 FOR SHARE) "
        "INSERT INTO ocsp_response_cache (issuer_id, serial, cert_id_hash, generation, "
        "cert_status, response_der, this_update, next_update, produced_at, "
        "responder_serial, revocation_epoch, answer_digest) SELECT $1, $2, $3, $4, $5, "
        "$6, 'epoch'::timestamptz + $7 * interval '1 microsecond', "
        "'epoch'::timestamptz + $8 * interval '1 microsecond', "
        "'epoch'::timestamptz + $9 * interval '1 microsecond', $10, $11, "
        "NULLIF($12, ''::bytea) FROM current "
        "ON CONFLICT (issuer_id, serial, cert_id_hash) DO UPDATE SET generation = "
        "EXCLUDED.generation, cert_status = EXCLUDED.cert_status, response_der = "
        "EXCLUDED.response_der, this_update = EXCLUDED.this_update, next_update = "
        "EXCLUDED.next_update, produced_at = EXCLUDED.produced_at, responder_serial = "
        "EXCLUDED.responder_serial, revocation_epoch = EXCLUDED.revocation_epoch, "
        "answer_digest = EXCLUDED.answer_digest",
        a.issuer_id, a.serial, a.cert_id_hash, a.generation, a.cert_status,
        Bytes(a.response_der), MicrosParam(a.this_update), MicrosParam(a.next_update),
        MicrosParam(a.produced_at), a.responder_serial, a.revocation_epoch,
        Bytes(a.answer_digest.value_or("")));
    return r.affected_rows() == 1;
  });
}

Result<std::vector<OcspCacheScanRow>> OcspCacheRepo::Scan(
    Transaction& tx, const std::optional<OcspCacheCursor>& after, int limit) {
  static const std::string sql =
      "SELECT " + kAnswerColumns +
      ", c.serial IS NOT NULL, r.reason, rc.serial_number FROM ocsp_response_cache a "
      "LEFT JOIN certificates c ON c.issuer_id = a.issuer_id AND c.serial = a.serial "
      "LEFT JOIN certificate_revocations r ON r.issuer_id = a.issuer_id AND r.serial = "
      "a.serial "
      "LEFT JOIN ocsp_responder_certs rc ON rc.issuer_id = a.issuer_id AND "
      "rc.generation = a.generation "
      "WHERE NOT $1 OR (a.issuer_id, a.serial, a.cert_id_hash) > ($2, $3, $4) "
      "ORDER BY a.issuer_id, a.serial, a.cert_id_hash LIMIT $5";
  return GuardValue<std::vector<OcspCacheScanRow>>("scan OCSP response cache", [&] {
    OcspCacheCursor c = after.value_or(OcspCacheCursor{});
    std::vector<OcspCacheScanRow> out;
    for (const auto& r : tx.Exec("ocsp_cache_scan", sql.c_str(), after.has_value(),
                                 c.issuer_id, c.serial, c.cert_id_hash, limit)) {
      OcspCacheScanRow row;
      row.answer = CacheRecordFrom(r);
      constexpr int n = kAnswerColumnCount;
      row.certificate_exists = r[n].as<bool>();
      if (!r[n + 1].is_null()) row.revocation_reason = r[n + 1].as<int>();
      if (!r[n + 2].is_null()) row.current_responder_serial = r[n + 2].as<std::string>();
      out.push_back(std::move(row));
    }
    return out;
  });
}

Result<bool> OcspCacheRepo::DeleteIfUnchanged(Transaction& tx, const OcspCacheRecord& a) {
  return GuardValue<bool>("delete cached OCSP answer", [&] {
    auto r = tx.Exec(
        "ocsp_cache_delete_unchanged",
        "DELETE FROM ocsp_response_cache WHERE issuer_id = $1 AND serial = $2 AND "
        "cert_id_hash = $3 AND response_der = $4",
        a.issuer_id, a.serial, a.cert_id_hash, Bytes(a.response_der));
    return r.affected_rows() == 1;
  });
}

}  // namespace certctl
