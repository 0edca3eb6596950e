#include "store/certificate_repo.h"

#include <pqxx/stream_from>

#include "certctl/util/encoding.h"
#include "store/array_literal.h"
#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kSelectCertificate[] =
    "SELECT c.issuer_id, c.serial, c.generation, c.subject, c.sans, "
    "extract(epoch from c.not_before), extract(epoch from c.not_after), c.cert_der, "
    "extract(epoch from c.issued_at), c.issued_by, "
    "r.reason, extract(epoch from r.revoked_at), r.revoked_by, "
    "(extract(epoch from c.issued_at) * 1000000)::bigint "
    "FROM certificates c LEFT JOIN certificate_revocations r "
    "ON r.issuer_id = c.issuer_id AND r.serial = c.serial ";

std::vector<std::string> ParseTextArray(const pqxx::field& f) {
  std::vector<std::string> out;
  auto parser = f.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

CertificateStatusRecord StatusFrom(const pqxx::row& r) {
  CertificateStatusRecord s;
  CertificateRecord& c = s.certificate;
  c.issuer_id = r[0].as<std::string>();
  c.serial = r[1].as<std::string>();
  c.generation = r[2].as<int>();
  c.subject = r[3].as<std::string>();
  c.sans = ParseTextArray(r[4]);
  c.not_before = TimeFrom(r[5]);
  c.not_after = TimeFrom(r[6]);
  c.cert_der = BytesFrom(r[7]);
  c.issued_at = TimeFrom(r[8]);
  c.issued_by = r[9].as<std::string>();
  if (!r[10].is_null()) {
    s.revocation =
        RevocationRecord{c.issuer_id,     c.serial,        c.generation,
                         r[10].as<int>(), TimeFrom(r[11]), r[12].as<std::string>()};
  }
  return s;
}

// Cursor: base64 of "<issued_at epoch micros>/<issuer>/<serial>", the micros
// read exactly from the database (column 13 of kSelectCertificate): a value
// that went through a double could land one microsecond off and repeat or
// skip a row on the next page.
std::string EncodeCursor(const pqxx::row& r) {
  return Base64Encode(r[13].as<std::string>() + "/" + r[0].as<std::string>() + "/" +
                      r[1].as<std::string>());
}

struct Cursor {
  std::string issued_at;  // exact timestamptz literal (a double would round)
  std::string issuer;
  std::string serial;
};

std::string MicrosToTimestamp(int64_t micros) {
  std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld+00",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<long long>(micros % 1000000));
  return buf;
}

Result<Cursor> DecodeCursor(const std::string& text) {
  auto raw = Base64Decode(text);
  auto bad = Status::InvalidArgument("invalid cursor");
  if (!raw.ok()) return bad;
  size_t a = raw->find('/'), b = raw->find('/', a == std::string::npos ? 0 : a + 1);
  if (a == std::string::npos || b == std::string::npos) return bad;
  Cursor c;
  try {
    int64_t micros = std::stoll(raw->substr(0, a));
    if (micros < 0) return bad;
    c.issued_at = MicrosToTimestamp(micros);
  } catch (...) {
    return bad;
  }
  c.issuer = raw->substr(a + 1, b - a - 1);
  c.serial = raw->substr(b + 1);
  return c;
}

}  // namespace

Status CertificateRepo::Insert(Transaction& tx, const CertificateRecord& c) {
  return Guard("insert certificate " + c.serial, [&] {
    tx.Exec("certificate_insert",
            "INSERT INTO certificates (issuer_id, serial, generation, subject, sans, "
            "not_before, "
            "not_after, cert_der, issued_by) VALUES ($1, $2, $3, $4, $5::text[], "
            "to_timestamp($6), to_timestamp($7), $8, $9)",
            c.issuer_id, c.serial, c.generation, c.subject, TextArrayLiteral(c.sans),
            EpochParam(c.not_before), EpochParam(c.not_after), Bytes(c.cert_der),
            c.issued_by);
    return Status::Ok();
  });
}

Result<std::optional<CertificateStatusRecord>> CertificateRepo::Find(
    Transaction& tx, const std::string& issuer, const std::string& serial) {
  static const std::string sql =
      std::string(kSelectCertificate) + "WHERE c.issuer_id = $1 AND c.serial = $2";
  return GuardValue<std::optional<CertificateStatusRecord>>("find certificate", [&] {
    auto r = tx.Exec("certificate_find", sql.c_str(), issuer, serial);
    if (r.empty()) return std::optional<CertificateStatusRecord>();
    return std::optional<CertificateStatusRecord>(StatusFrom(r[0]));
  });
}

Result<std::vector<CertificateStatusRecord>> CertificateRepo::FindBySerial(
    Transaction& tx, const std::string& serial) {
  static const std::string sql =
      std::string(kSelectCertificate) + "WHERE c.serial = $1 ORDER BY c.issuer_id";
  return GuardValue<std::vector<CertificateStatusRecord>>("find certificate", [&] {
    std::vector<CertificateStatusRecord> out;
    for (const auto& r : tx.Exec("certificate_find_serial", sql.c_str(), serial)) {
      out.push_back(StatusFrom(r));
    }
    return out;
  });
}

Result<bool> CertificateRepo::GenerationHasUnexpired(Transaction& tx,
                                                     const std::string& issuer,
                                                     int generation, TimePoint now) {
  return GuardValue<bool>("look for unexpired certificates", [&] {
    auto r = tx.Exec("certificate_generation_unexpired",
                     "SELECT EXISTS (SELECT 1 FROM certificates WHERE issuer_id = $1 "
                     "AND generation = $2 AND not_after > to_timestamp($3))",
                     issuer, generation, EpochParam(now));
    return r[0][0].as<bool>();
  });
}

Result<CertificateRepo::UnexpiredCount> CertificateRepo::CountUnexpired(
    Transaction& tx, const std::string& issuer, int generation, TimePoint now) {
  return GuardValue<UnexpiredCount>("count unexpired certificates", [&] {
    auto r = tx.Exec("certificate_generation_count_unexpired",
                     "SELECT count(*), extract(epoch from max(not_after)) FROM "
                     "certificates WHERE issuer_id = $1 AND generation = $2 AND "
                     "not_after > to_timestamp($3)",
                     issuer, generation, EpochParam(now));
    return UnexpiredCount{r[0][0].as<int64_t>(), OptionalTimeFrom(r[0][1])};
  });
}

Result<CertificatePage> CertificateRepo::List(Transaction& tx,
                                              const CertificateListFilter& filter,
                                              TimePoint now) {
  if (filter.limit < 1 || filter.limit > 1000) {
    return Status::InvalidArgument("limit must be between 1 and 1000");
  }
  Cursor cursor;
  bool has_cursor = !filter.cursor.empty();
  if (has_cursor) {
    ASSIGN_OR_RETURN(cursor, DecodeCursor(filter.cursor));
  }
  static const std::string sql =
      std::string(kSelectCertificate) +
      "WHERE ($1 = '' OR c.issuer_id = $1) "
      "AND ($2 = 'any' "
      "  OR ($2 = 'revoked' AND r.serial IS NOT NULL) "
      "  OR ($2 = 'active' AND r.serial IS NULL AND c.not_after > to_timestamp($3)) "
      "  OR ($2 = 'expired' AND r.serial IS NULL AND c.not_after <= to_timestamp($3))) "
      "AND (NOT $4 OR (c.issued_at, c.issuer_id, c.serial) > "
      "     ($5::timestamptz, $6, $7)) "
      "ORDER BY c.issued_at, c.issuer_id, c.serial LIMIT $8";
  const char* status = "any";
  switch (filter.status) {
    case CertificateStatusFilter::kAny:
      status = "any";
      break;
    case CertificateStatusFilter::kActive:
      status = "active";
      break;
    case CertificateStatusFilter::kRevoked:
      status = "revoked";
      break;
    case CertificateStatusFilter::kExpired:
      status = "expired";
      break;
  }
  return GuardValue<CertificatePage>("list certificates", [&] {
    CertificatePage page;
    auto rows =
        tx.Exec("certificate_list", sql.c_str(), filter.issuer, status, EpochParam(now),
                has_cursor, has_cursor ? cursor.issued_at : std::string("epoch"),
                cursor.issuer, cursor.serial, filter.limit + 1);
    for (const auto& r : rows) page.items.push_back(StatusFrom(r));
    if (static_cast<int>(page.items.size()) > filter.limit) {
      page.items.pop_back();
      page.next_cursor = EncodeCursor(rows[filter.limit - 1]);
    }
    return page;
  });
}

Status RevocationRepo::Insert(Transaction& tx, const RevocationRecord& r) {
  return Guard("revoke certificate " + r.serial, [&] {
    auto res =
        tx.Exec("revocation_insert",
                "INSERT INTO certificate_revocations (issuer_id, serial, generation, "
                "reason, revoked_at, revoked_by) VALUES ($1, $2, $3, $4, "
                "to_timestamp($5), $6) ON CONFLICT (issuer_id, serial) DO NOTHING",
                r.issuer_id, r.serial, r.generation, r.reason, EpochParam(r.revoked_at),
                r.revoked_by);
    if (res.affected_rows() == 0) {
      return Status::AlreadyExists("certificate " + r.serial + " of " + r.issuer_id +
                                   " is already revoked");
    }
    return Status::Ok();
  });
}

Result<std::optional<RevocationRecord>> RevocationRepo::Find(Transaction& tx,
                                                             const std::string& issuer,
                                                             const std::string& serial) {
  return GuardValue<std::optional<RevocationRecord>>("find revocation", [&] {
    auto r =
        tx.Exec("revocation_find",
                "SELECT generation, reason, extract(epoch from revoked_at), revoked_by "
                "FROM certificate_revocations WHERE issuer_id = $1 AND serial = $2",
                issuer, serial);
    if (r.empty()) return std::optional<RevocationRecord>();
    return std::optional<RevocationRecord>(
        RevocationRecord{issuer, serial, r[0][0].as<int>(), r[0][1].as<int>(),
                         TimeFrom(r[0][2]), r[0][3].as<std::string>()});
  });
}

Result<int64_t> RevocationRepo::CountForGeneration(Transaction& tx,
                                                   const std::string& issuer,
                                                   int generation) {
  return GuardValue<int64_t>("count revocations", [&] {
    auto r = tx.Exec("revocation_count",
                     "SELECT count(*) FROM certificate_revocations "
                     "WHERE issuer_id = $1 AND generation = $2",
                     issuer, generation);
    return r[0][0].as<int64_t>();
  });
}

Status RevocationRepo::ForEachInGeneration(
    Transaction& tx, const std::string& issuer, int generation,
    const std::function<Status(const RevocationRecord&)>& fn) {
  return Guard("stream revocations", [&] {
    auto& w = tx.work();
    // libpqxx 6.4 streams a query written in parentheses as COPY (query) TO STDOUT.
    pqxx::stream_from stream(
        w,
        "(SELECT serial, reason, extract(epoch from revoked_at), revoked_by "
        "FROM certificate_revocations WHERE issuer_id = " +
            w.quote(issuer) + " AND generation = " + std::to_string(generation) +
            " ORDER BY serial)");
    std::tuple<std::string, int, double, std::string> row;
    Status result;
    while (stream >> row) {
      if (!result.ok()) continue;  // drain the COPY so the transaction stays usable
      RevocationRecord rec{issuer,
                           std::get<0>(row),
                           generation,
                           std::get<1>(row),
                           TimePoint(std::chrono::duration_cast<TimePoint::duration>(
                               std::chrono::duration<double>(std::get<2>(row)))),
                           std::get<3>(row)};
      result = fn(rec);
    }
    stream.complete();
    return result;
  });
}

}  // namespace certctl
