#include "store/drill_repo.h"

#include "store/pg.h"

namespace certctl {

Result<std::vector<NamedKeyFile>> DrillRepo::KeyFiles(Transaction& tx) {
  return GuardValue<std::vector<NamedKeyFile>>("read the key files rows name", [&] {
    std::vector<NamedKeyFile> out;
    for (const auto& row :
         tx.Exec("drill_key_files",
                 "SELECT 'ca_generations', issuer_id, generation, key_path FROM "
                 "ca_generations UNION ALL SELECT 'ocsp_responder_certs', issuer_id, "
                 "generation, key_path FROM ocsp_responder_certs ORDER BY 1, 2, 3")) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int>(),
                     row[3].as<std::string>()});
    }
    return out;
  });
}

Status DrillRepo::MoveKeyFile(Transaction& tx, const NamedKeyFile& file,
                              const std::string& path) {
  return Guard("point " + file.table + " at " + path, [&] {
    // Two statements rather than a table name spliced into SQL.
    if (file.table == "ca_generations") {
      tx.Exec("drill_move_ca_key",
              "UPDATE ca_generations SET key_path = $3 WHERE issuer_id = $1 AND "
              "generation = $2",
              file.issuer_id, file.generation, path);
    } else {
      tx.Exec("drill_move_responder_key",
              "UPDATE ocsp_responder_certs SET key_path = $3 WHERE issuer_id = $1 AND "
              "generation = $2",
              file.issuer_id, file.generation, path);
    }
    return Status::Ok();
  });
}

}  // namespace certctl
