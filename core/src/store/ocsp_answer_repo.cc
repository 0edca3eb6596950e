#include "store/ocsp_answer_repo.h"

#include <map>
#include <tuple>

#include "certctl/util/encoding.h"
#include "store/array_literal.h"
#include "store/pg.h"

namespace certctl {
namespace {

// bytea in hex input form, for an array element.
std::string ByteaText(const std::string& bytes) { return "\\x" + HexEncode(bytes); }

std::string ReadSql() {
  return "SELECT i.revocation_epoch, c.generation, r.reason, " +
         MicrosSql("r.revoked_at") + ", p.serial_number, " + MicrosSql("p.not_after") +
         ", a.generation, a.cert_status, a.response_der, " + MicrosSql("a.this_update") +
         ", " + MicrosSql("a.next_update") + ", " + MicrosSql("a.produced_at") +
         ", a.responder_serial, a.revocation_epoch, a.answer_digest "
         "FROM issuers i "
         "LEFT JOIN certificates c ON c.issuer_id = i.id AND c.serial = $2 "
         "LEFT JOIN certificate_revocations r ON r.issuer_id = c.issuer_id AND "
         "r.serial = c.serial "
         "LEFT JOIN ocsp_responder_certs p ON p.issuer_id = i.id AND p.generation = "
         "CASE WHEN c.generation = ANY($4::int[]) THEN c.generation "
         "ELSE ($4::int[])[1] END "
         "LEFT JOIN ocsp_response_cache a ON a.issuer_id = i.id AND a.serial = $2 AND "
         "a.cert_id_hash = $3 "
         "WHERE i.id = $1";
}

OcspAnswerInputs InputsFrom(const pqxx::row& r, const std::string& issuer,
                            const std::string& serial, const std::string& hash) {
  OcspAnswerInputs in;
  in.revocation_epoch = r[0].as<int64_t>();
  if (!r[1].is_null()) in.certificate_generation = r[1].as<int>();
  if (!r[2].is_null()) {
    in.revocation_reason = r[2].as<int>();
    in.revoked_at = TimeFromMicros(r[3].as<int64_t>());
  }
  if (!r[4].is_null()) {
    in.responder_serial = r[4].as<std::string>();
    in.responder_not_after = TimeFromMicros(r[5].as<int64_t>());
  }
  if (!r[6].is_null()) {
    OcspCacheRecord a;
    a.issuer_id = issuer;
    a.serial = serial;
    a.cert_id_hash = hash;
    a.generation = r[6].as<int>();
    a.cert_status = r[7].as<int>();
    a.response_der = BytesFrom(r[8]);
    a.this_update = TimeFromMicros(r[9].as<int64_t>());
    a.next_update = TimeFromMicros(r[10].as<int64_t>());
    a.produced_at = TimeFromMicros(r[11].as<int64_t>());
    a.responder_serial = r[12].as<std::string>();
    a.revocation_epoch = r[13].as<int64_t>();
    if (!r[14].is_null()) a.answer_digest = BytesFrom(r[14]);
    in.cached = std::move(a);
  }
  return in;
}

}  // namespace

Result<std::optional<OcspAnswerInputs>> OcspAnswerRepo::Read(
    Transaction& tx, const std::string& issuer, const std::string& serial,
    const std::string& cert_id_hash, const std::vector<int>& candidates) {
  static const std::string sql = ReadSql();
  std::string generations = "{";
  for (size_t i = 0; i < candidates.size(); ++i) {
    generations += (i ? "," : "") + std::to_string(candidates[i]);
  }
  generations += "}";
  return GuardValue<std::optional<OcspAnswerInputs>>("read OCSP answer inputs", [&] {
    auto r = tx.Exec("ocsp_answer_read", sql.c_str(), issuer, serial, cert_id_hash,
                     generations);
    if (r.empty()) return std::optional<OcspAnswerInputs>();
    return std::optional<OcspAnswerInputs>(
        InputsFrom(r[0], issuer, serial, cert_id_hash));
  });
}

Result<std::vector<bool>> OcspAnswerRepo::PutBatchIfEpochUnchanged(
    Transaction& tx, const std::vector<OcspCacheRecord>& rows) {
  // As PutIfEpochUnchanged: FOR SHARE waits for a revocation holding an issuer
  // row, then returns the row as committed, whose new epoch matches no row.
  static const char sql[] =
      "WITH b AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], "
      "$5::smallint[], $6::bytea[], $7::bigint[], $8::bigint[], $9::bigint[], "
      "$10::text[], $11::bigint[], $12::bytea[]) AS t(issuer_id, serial, cert_id_hash, "
      "generation, cert_status, response_der, this_update, next_update, produced_at, "
      "responder_serial, revocation_epoch, answer_digest)), "
      "current AS (SELECT id, revocation_epoch FROM issuers WHERE id IN (SELECT "
      "issuer_id FROM b) FOR SHARE) "
      "INSERT INTO ocsp_response_cache (issuer_id, serial, cert_id_hash, generation, "
      "cert_status, response_der, this_update, next_update, produced_at, "
      "responder_serial, revocation_epoch, answer_digest) "
      "SELECT b.issuer_id, b.serial, b.cert_id_hash, b.generation, b.cert_status, "
      "b.response_der, 'epoch'::timestamptz + b.this_update * interval '1 microsecond', "
      "'epoch'::timestamptz + b.next_update * interval '1 microsecond', "
      "'epoch'::timestamptz + b.produced_at * interval '1 microsecond', "
      "b.responder_serial, b.revocation_epoch, NULLIF(b.answer_digest, ''::bytea) "
      "FROM b JOIN current c ON "
      "c.id = b.issuer_id AND c.revocation_epoch = b.revocation_epoch "
      "ON CONFLICT (issuer_id, serial, cert_id_hash) DO UPDATE SET generation = "
      "EXCLUDED.generation, cert_status = EXCLUDED.cert_status, response_der = "
      "EXCLUDED.response_der, this_update = EXCLUDED.this_update, next_update = "
      "EXCLUDED.next_update, produced_at = EXCLUDED.produced_at, responder_serial = "
      "EXCLUDED.responder_serial, revocation_epoch = EXCLUDED.revocation_epoch, "
      "answer_digest = EXCLUDED.answer_digest "
      "RETURNING issuer_id, serial, cert_id_hash";
  std::vector<std::string> cols[12];
  for (const auto& a : rows) {
    cols[0].push_back(a.issuer_id);
    cols[1].push_back(a.serial);
    cols[2].push_back(a.cert_id_hash);
    cols[3].push_back(std::to_string(a.generation));
    cols[4].push_back(std::to_string(a.cert_status));
    cols[5].push_back(ByteaText(a.response_der));
    cols[6].push_back(std::to_string(MicrosParam(a.this_update)));
    cols[7].push_back(std::to_string(MicrosParam(a.next_update)));
    cols[8].push_back(std::to_string(MicrosParam(a.produced_at)));
    cols[9].push_back(a.responder_serial);
    cols[10].push_back(std::to_string(a.revocation_epoch));
    cols[11].push_back(ByteaText(a.answer_digest.value_or("")));
  }
  return GuardValue<std::vector<bool>>("write back OCSP answers", [&] {
    auto r = tx.Exec(
        "ocsp_cache_put_batch", sql, TextArrayLiteral(cols[0]), TextArrayLiteral(cols[1]),
        TextArrayLiteral(cols[2]), TextArrayLiteral(cols[3]), TextArrayLiteral(cols[4]),
        TextArrayLiteral(cols[5]), TextArrayLiteral(cols[6]), TextArrayLiteral(cols[7]),
        TextArrayLiteral(cols[8]), TextArrayLiteral(cols[9]), TextArrayLiteral(cols[10]),
        TextArrayLiteral(cols[11]));
    std::map<std::tuple<std::string, std::string, std::string>, bool> written;
    for (const auto& row : r) {
      written[{row[0].as<std::string>(), row[1].as<std::string>(),
               row[2].as<std::string>()}] = true;
    }
    std::vector<bool> out;
    for (const auto& a : rows) {
      out.push_back(written.count({a.issuer_id, a.serial, a.cert_id_hash}) > 0);
    }
    return out;
  });
}

}  // namespace certctl
