#include "store/ca_backup_repo.h"

#include "store/pg.h"

namespace certctl {
namespace {

constexpr char kColumns[] =
    "b.id, b.issuer_id, b.directory, b.manifest_sha256, b.file_count, "
    "extract(epoch from b.created_at), b.created_by, b.host";

CaBackupRow RowFrom(const pqxx::row& r) {
  return {r[0].as<int64_t>(),     r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<int>(),         TimeFrom(r[5]),
          r[6].as<std::string>(), r[7].as<std::string>()};
}

std::optional<CaBackupRow> FirstRow(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return RowFrom(r[0]);
}

}  // namespace

Result<int64_t> CaBackupRepo::Insert(Transaction& tx, const CaBackupRow& b,
                                     const std::vector<CaBackupGenerationRow>& gens) {
  return GuardValue<int64_t>("record the CA backup of " + b.issuer_id, [&] {
    auto r = tx.Exec("ca_backup_insert",
                     "INSERT INTO ca_backups (issuer_id, directory, manifest_sha256, "
                     "file_count, created_at, created_by, host) VALUES ($1, $2, $3, $4, "
                     "to_timestamp($5), $6, $7) RETURNING id",
                     b.issuer_id, b.directory, b.manifest_sha256, b.file_count,
                     EpochParam(b.created_at), b.created_by, b.host);
    int64_t id = r[0][0].as<int64_t>();
    for (const auto& g : gens) {
      tx.Exec("ca_backup_generation_insert",
              "INSERT INTO ca_backup_generations (backup_id, issuer_id, generation, "
              "cert_sha256) VALUES ($1, $2, $3, $4)",
              id, b.issuer_id, g.generation, g.cert_sha256);
    }
    return id;
  });
}

Result<std::optional<CaBackupRow>> CaBackupRepo::NewestHolding(
    Transaction& tx, const std::string& issuer, int generation,
    const std::string& cert_sha256) {
  return GuardValue<std::optional<CaBackupRow>>("find the CA backups of " + issuer, [&] {
    return FirstRow(tx.Exec("ca_backup_newest_holding",
                            (std::string("SELECT ") + kColumns +
                             " FROM ca_backups b JOIN ca_backup_generations g ON "
                             "g.backup_id = b.id WHERE g.issuer_id = $1 AND "
                             "g.generation = $2 AND g.cert_sha256 = $3 "
                             "ORDER BY b.created_at DESC, b.id DESC LIMIT 1")
                                .c_str(),
                            issuer, generation, cert_sha256));
  });
}

Result<std::optional<CaBackupRow>> CaBackupRepo::FindByManifest(
    Transaction& tx, const std::string& manifest_sha256) {
  return GuardValue<std::optional<CaBackupRow>>("find a CA backup by manifest", [&] {
    return FirstRow(tx.Exec("ca_backup_by_manifest",
                            (std::string("SELECT ") + kColumns +
                             " FROM ca_backups b WHERE manifest_sha256 = $1 "
                             "ORDER BY b.created_at DESC, b.id DESC LIMIT 1")
                                .c_str(),
                            manifest_sha256));
  });
}

}  // namespace certctl
