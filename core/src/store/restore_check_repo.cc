#include "store/restore_check_repo.h"

#include <pqxx/stream_from>
#include <tuple>

#include "store/pg.h"

namespace certctl {
namespace {

// "a,b" -> "x.a = y.a AND x.b = y.b" (and the like), names quoted.
std::vector<std::string> SplitNames(const std::string& csv) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= csv.size()) {
    size_t comma = csv.find(',', start);
    if (comma == std::string::npos) comma = csv.size();
    out.push_back(csv.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The rows of `child` whose key (`child_cols`, none NULL) has no row in
// `parent` (`parent_cols`).
std::string OrphanQuery(pqxx::transaction_base& w, const std::string& child,
                        const std::string& child_cols, const std::string& parent,
                        const std::string& parent_cols) {
  auto cc = SplitNames(child_cols), pc = SplitNames(parent_cols);
  std::string not_null, join;
  for (size_t i = 0; i < cc.size() && i < pc.size(); ++i) {
    std::string sep = i == 0 ? "" : " AND ";
    not_null += sep + "c." + w.quote_name(cc[i]) + " IS NOT NULL";
    join += sep + "p." + w.quote_name(pc[i]) + " = c." + w.quote_name(cc[i]);
  }
  return "SELECT count(*) FROM " + w.quote_name(child) + " c WHERE " + not_null +
         " AND NOT EXISTS (SELECT 1 FROM " + w.quote_name(parent) + " p WHERE " + join +
         ")";
}

}  // namespace

Result<std::map<std::string, std::vector<std::string>>> RestoreCheckRepo::Tables(
    Transaction& tx) {
  using Out = std::map<std::string, std::vector<std::string>>;
  return GuardValue<Out>("list tables", [&] {
    Out out;
    auto r = tx.work().exec(
        "SELECT t.table_name, c.column_name, c.data_type FROM information_schema.tables "
        "t "
        "LEFT JOIN information_schema.columns c ON c.table_schema = t.table_schema AND "
        "c.table_name = t.table_name WHERE t.table_schema = 'public' AND t.table_type = "
        "'BASE TABLE' ORDER BY t.table_name, c.ordinal_position");
    for (const auto& row : r) {
      auto& columns = out[row[0].as<std::string>()];
      if (!row[1].is_null()) {
        columns.push_back(row[1].as<std::string>() + " " + row[2].as<std::string>());
      }
    }
    return out;
  });
}

Result<int64_t> RestoreCheckRepo::CountRows(Transaction& tx, const std::string& table) {
  return GuardValue<int64_t>("count the rows of " + table, [&] {
    auto& w = tx.work();
    return w.exec1("SELECT count(*) FROM " + w.quote_name(table))[0].as<int64_t>();
  });
}

Result<std::vector<ForeignKeyOrphans>> RestoreCheckRepo::ForeignKeys(Transaction& tx) {
  return GuardValue<std::vector<ForeignKeyOrphans>>("check foreign keys", [&] {
    auto& w = tx.work();
    auto keys = w.exec(
        "SELECT con.conname, cl.relname, pcl.relname, "
        "(SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(con.conkey) WITH "
        "ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND "
        "a.attnum = k.n), "
        "(SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest(con.confkey) WITH "
        "ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND "
        "a.attnum = k.n) "
        "FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid "
        "JOIN pg_class pcl ON pcl.oid = con.confrelid "
        "JOIN pg_namespace n ON n.oid = cl.relnamespace "
        "WHERE con.contype = 'f' AND n.nspname = 'public' ORDER BY 1");
    std::vector<ForeignKeyOrphans> out;
    for (const auto& k : keys) {
      ForeignKeyOrphans fk{k[0].as<std::string>(), k[1].as<std::string>(),
                           k[2].as<std::string>(), 0};
      fk.rows = w.exec1(OrphanQuery(w, fk.table, k[3].as<std::string>(), fk.references,
                                    k[4].as<std::string>()))[0]
                    .as<int64_t>();
      out.push_back(std::move(fk));
    }
    return out;
  });
}

Status RestoreCheckRepo::ForEachRevocation(
    Transaction& tx, const std::function<void(RevocationKey)>& visit) {
  return Guard("stream revocations", [&] {
    // libpqxx 6.4 streams a query written in parentheses as COPY (query) TO STDOUT.
    pqxx::stream_from stream(
        tx.work(),
        "(SELECT issuer_id, generation, serial, reason, extract(epoch from revoked_at) "
        "FROM certificate_revocations ORDER BY issuer_id, serial)");
    std::tuple<std::string, int, std::string, int, double> row;
    while (stream >> row) {
      visit({std::get<0>(row), std::get<1>(row), std::get<2>(row), std::get<3>(row),
             TimePoint(std::chrono::duration_cast<TimePoint::duration>(
                 std::chrono::duration<double>(std::get<4>(row))))});
    }
    stream.complete();
    return Status::Ok();
  });
}

Result<std::vector<CrlNumberUse>> RestoreCheckRepo::CrlNumbers(Transaction& tx) {
  return GuardValue<std::vector<CrlNumberUse>>("read CRL numbers", [&] {
    auto r = tx.work().exec(
        "SELECT g.issuer_id, g.generation, greatest(coalesce(n.last_number, 0), "
        "coalesce((SELECT max(crl_number) FROM crl_cache c WHERE c.issuer_id = "
        "g.issuer_id AND c.generation = g.generation), 0), coalesce((SELECT "
        "max(crl_number) FROM crl_generation_events e WHERE e.issuer_id = g.issuer_id "
        "AND e.generation = g.generation AND e.succeeded), 0)) "
        "FROM ca_generations g LEFT JOIN crl_numbers n ON n.issuer_id = g.issuer_id AND "
        "n.generation = g.generation ORDER BY 1, 2");
    std::vector<CrlNumberUse> out;
    for (const auto& row : r) {
      out.push_back({row[0].as<std::string>(), row[1].as<int>(), row[2].as<int64_t>()});
    }
    return out;
  });
}

Result<std::vector<ResponderKeyRow>> RestoreCheckRepo::Responders(Transaction& tx) {
  return GuardValue<std::vector<ResponderKeyRow>>("read OCSP responders", [&] {
    auto r = tx.work().exec(
        "SELECT issuer_id, generation, serial_number, cert_pem, key_path FROM "
        "ocsp_responder_certs ORDER BY issuer_id, generation");
    std::vector<ResponderKeyRow> out;
    for (const auto& row : r) {
      out.push_back({row[0].as<std::string>(), row[1].as<int>(), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>()});
    }
    return out;
  });
}

Result<std::map<std::pair<std::string, int>, std::string>>
RestoreCheckRepo::NewestCertificates(Transaction& tx) {
  using Out = std::map<std::pair<std::string, int>, std::string>;
  return GuardValue<Out>("read certificates", [&] {
    auto r = tx.work().exec(
        "SELECT DISTINCT ON (issuer_id, generation) issuer_id, generation, cert_der "
        "FROM certificates ORDER BY issuer_id, generation, issued_at DESC");
    Out out;
    for (const auto& row : r) {
      out[{row[0].as<std::string>(), row[1].as<int>()}] = BytesFrom(row[2]);
    }
    return out;
  });
}

Result<std::optional<ConfigKeyCheckRow>> RestoreCheckRepo::FindKeyCheck(Transaction& tx) {
  return GuardValue<std::optional<ConfigKeyCheckRow>>("read the key check", [&] {
    auto r = tx.Exec("config_key_check_find",
                     "SELECT algorithm, salt, check_value FROM "
                     "config_encryption_key_check WHERE id = 1");
    std::optional<ConfigKeyCheckRow> out;
    if (!r.empty()) {
      out = ConfigKeyCheckRow{r[0][0].as<std::string>(), BytesFrom(r[0][1]),
                              BytesFrom(r[0][2])};
    }
    return out;
  });
}

Result<bool> RestoreCheckRepo::InsertKeyCheck(Transaction& tx,
                                              const ConfigKeyCheckRow& row) {
  return GuardValue<bool>("record the key check", [&] {
    auto r = tx.Exec("config_key_check_insert",
                     "INSERT INTO config_encryption_key_check (id, algorithm, salt, "
                     "check_value) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
                     row.algorithm, Bytes(row.salt), Bytes(row.check_value));
    return r.affected_rows() == 1;
  });
}

}  // namespace certctl
