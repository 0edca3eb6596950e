#include "store/crl_repo.h"

#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kSummaryColumns[] =
    "issuer_id, generation, crl_number, extract(epoch from this_update), "
    "extract(epoch from next_update), extract(epoch from generated_at), "
    "generation_duration_ms, revoked_count, octet_length(crl_der), sha256(crl_der)";

CrlCacheRecord SummaryFrom(const pqxx::row& r) {
  CrlCacheRecord c;
  c.issuer_id = r[0].as<std::string>();
  c.generation = r[1].as<int>();
  c.crl_number = r[2].as<int64_t>();
  c.this_update = TimeFrom(r[3]);
  c.next_update = TimeFrom(r[4]);
  c.generated_at = TimeFrom(r[5]);
  c.generation_duration_ms = r[6].as<int64_t>();
  c.revoked_count = r[7].as<int64_t>();
  c.size = r[8].as<int64_t>();
  c.der_sha256 = BytesFrom(r[9]);
  return c;
}

CrlGenerationEvent EventFrom(const pqxx::row& r) {
  CrlGenerationEvent e;
  e.id = r[0].as<int64_t>();
  e.issuer_id = r[1].as<std::string>();
  e.generation = r[2].as<int>();
  e.started_at = TimeFrom(r[3]);
  e.succeeded = r[4].as<bool>();
  e.error = r[5].is_null() ? "" : r[5].as<std::string>();
  e.duration_ms = r[6].as<int64_t>();
  if (!r[7].is_null()) e.revoked_count = r[7].as<int64_t>();
  if (!r[8].is_null()) e.crl_number = r[8].as<int64_t>();
  if (!r[9].is_null()) e.crl_size = r[9].as<int64_t>();
  e.trigger = r[10].as<std::string>();
  e.runner = r[11].as<std::string>();
  return e;
}

// libpqxx 6.4 has no parameter type for an optional integer; the optional
// counters are never negative, so -1 travels as "absent" and NULLIF turns it
// into NULL.
int64_t OrMinusOne(const std::optional<int64_t>& v) { return v.value_or(-1); }

}  // namespace

Result<std::optional<CrlCacheRecord>> CrlRepo::Find(Transaction& tx,
                                                    const std::string& issuer,
                                                    int generation) {
  ASSIGN_OR_RETURN(auto row, FindSummary(tx, issuer, generation));
  if (!row) return row;
  // libpqxx 6.4 receives bytea as hex text and unescapes it into another
  // buffer, so one SELECT of a 50 MB CRL would briefly hold it four times.
  // Reading it in slices keeps that overhead to one slice; the SHA-256 the
  // summary returned proves the slices belong to one version of the row.
  constexpr int64_t kSlice = 8 << 20;
  Status s = Guard("read cached CRL", [&] {
    row->crl_der.reserve(static_cast<size_t>(row->size));
    for (int64_t offset = 0; offset < row->size; offset += kSlice) {
      auto r = tx.Exec("crl_cache_slice",
                       "SELECT substring(crl_der FROM $3 FOR $4) FROM crl_cache "
                       "WHERE issuer_id = $1 AND generation = $2",
                       issuer, generation, offset + 1, kSlice);
      if (r.empty()) break;
      pqxx::binarystring slice(r[0][0]);
      row->crl_der.append(reinterpret_cast<const char*>(slice.data()), slice.size());
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (static_cast<int64_t>(row->crl_der.size()) != row->size ||
      Sha256(row->crl_der) != row->der_sha256) {
    return Status::Busy("the cached CRL of " + GenerationLabel(issuer, generation) +
                        " changed while it was being read; retry");
  }
  return row;
}

Result<std::optional<CrlCacheRecord>> CrlRepo::FindSummary(Transaction& tx,
                                                           const std::string& issuer,
                                                           int generation) {
  static const std::string sql =
      std::string("SELECT ") + kSummaryColumns +
      " FROM crl_cache WHERE issuer_id = $1 AND generation = $2";
  return GuardValue<std::optional<CrlCacheRecord>>("read cached CRL summary", [&] {
    auto r = tx.Exec("crl_cache_summary", sql.c_str(), issuer, generation);
    if (r.empty()) return std::optional<CrlCacheRecord>();
    return std::optional<CrlCacheRecord>(SummaryFrom(r[0]));
  });
}

namespace {

// Sending a 50 MB bytea as one parameter would have libpqxx copy it and libpq
// copy it again into its send buffer: two more copies of the CRL at once.
// Slices go into a temporary table (not WAL-logged, dropped with the
// transaction) and the server assembles them with string_agg, so the client
// holds one slice beyond the CRL.
constexpr size_t kUploadSlice = 8 << 20;

void UploadInSlices(Transaction& tx, std::string_view der) {
  tx.work().exec(
      "CREATE TEMP TABLE crl_upload (n integer PRIMARY KEY, slice bytea NOT NULL) "
      "ON COMMIT DROP");
  for (size_t offset = 0, n = 0; offset < der.size(); offset += kUploadSlice, ++n) {
    tx.Exec("crl_upload_slice", "INSERT INTO crl_upload (n, slice) VALUES ($1, $2)",
            static_cast<int>(n), Bytes(der.substr(offset, kUploadSlice)));
  }
}

}  // namespace

Status CrlRepo::Upsert(Transaction& tx, const CrlCacheRecord& c) {
  if (c.crl_der.empty()) return Status::InvalidArgument("refusing to cache an empty CRL");
  return Guard("write cached CRL", [&] {
    UploadInSlices(tx, c.crl_der);
    // The WHERE clause makes "never replace a CRL by one with a number that
    // is not higher" hold even against a concurrent writer.
    auto r = tx.Exec(
        "crl_cache_upsert",
        "INSERT INTO crl_cache (issuer_id, generation, crl_der, crl_number, this_update, "
        "next_update, generated_at, generation_duration_ms, revoked_count) "
        "SELECT $1, $2, string_agg(slice, ''::bytea ORDER BY n), $3, to_timestamp($4), "
        "to_timestamp($5), to_timestamp($6), $7, $8 FROM crl_upload "
        "ON CONFLICT (issuer_id, generation) DO UPDATE SET crl_der = EXCLUDED.crl_der, "
        "crl_number = EXCLUDED.crl_number, this_update = EXCLUDED.this_update, "
        "next_update = EXCLUDED.next_update, generated_at = EXCLUDED.generated_at, "
        "generation_duration_ms = EXCLUDED.generation_duration_ms, "
        "revoked_count = EXCLUDED.revoked_count WHERE crl_cache.crl_number < "
        "EXCLUDED.crl_number",
        c.issuer_id, c.generation, c.crl_number, EpochParam(c.this_update),
        EpochParam(c.next_update), EpochParam(c.generated_at), c.generation_duration_ms,
        c.revoked_count);
    tx.work().exec("DROP TABLE crl_upload");
    if (r.affected_rows() == 1) return Status::Ok();
    auto cur = tx.Exec(
        "crl_cache_number",
        "SELECT crl_number FROM crl_cache WHERE issuer_id = $1 AND generation = $2",
        c.issuer_id, c.generation);
    std::string published = cur.empty() ? "?" : cur[0][0].as<std::string>();
    return Status::FailedPrecondition(
        "refusing to replace the cached CRL " + published + " of " +
        GenerationLabel(c.issuer_id, c.generation) + " by CRL number " +
        std::to_string(c.crl_number) + ": CRL numbers must increase");
  });
}

Result<int64_t> CrlRepo::ReserveNumberAbove(Transaction& tx, const std::string& issuer,
                                            int generation, int64_t published) {
  return GuardResult<int64_t>("advance CRL number", [&]() -> Result<int64_t> {
    auto r = tx.Exec("crl_number_above",
                     "UPDATE crl_numbers SET last_number = $3 + 1 WHERE issuer_id = $1 "
                     "AND generation = $2 AND last_number <= $3 RETURNING last_number",
                     issuer, generation, published);
    if (r.empty()) {
      return Status::NotFound("CRL number counter of " +
                              GenerationLabel(issuer, generation) +
                              " is missing or already ahead");
    }
    return r[0][0].as<int64_t>();
  });
}

Result<int64_t> CrlEventRepo::Append(Transaction& tx, const CrlGenerationEvent& e) {
  return GuardValue<int64_t>("record CRL generation event", [&] {
    auto r = tx.Exec(
        "crl_event_append",
        "INSERT INTO crl_generation_events (issuer_id, generation, started_at, "
        "succeeded, error, "
        "duration_ms, revoked_count, crl_number, crl_size, trigger, runner) VALUES ($1, "
        "$2, "
        "to_timestamp($3), $4, NULLIF($5, ''), $6, NULLIF($7, -1), NULLIF($8, -1), "
        "NULLIF($9, -1), $10, $11) RETURNING id",
        e.issuer_id, e.generation, EpochParam(e.started_at), e.succeeded, e.error,
        e.duration_ms, OrMinusOne(e.revoked_count), OrMinusOne(e.crl_number),
        OrMinusOne(e.crl_size), e.trigger, e.runner);
    return r[0][0].as<int64_t>();
  });
}

Result<std::vector<CrlGenerationEvent>> CrlEventRepo::Recent(Transaction& tx,
                                                             const std::string& issuer,
                                                             int generation, int limit) {
  return GuardValue<std::vector<CrlGenerationEvent>>("read CRL generation events", [&] {
    auto rows =
        tx.Exec("crl_event_recent",
                "SELECT id, issuer_id, generation, extract(epoch from started_at), "
                "succeeded, error, "
                "duration_ms, revoked_count, crl_number, crl_size, trigger, runner "
                "FROM crl_generation_events WHERE issuer_id = $1 AND generation = $2 "
                "ORDER BY started_at DESC, id DESC LIMIT $3",
                issuer, generation, limit);
    std::vector<CrlGenerationEvent> out;
    for (const auto& r : rows) out.push_back(EventFrom(r));
    return out;
  });
}

}  // namespace certctl
