#include "store/key_path_repo.h"

#include "store/pg.h"

namespace certctl {

Result<std::vector<std::string>> KeyPathRepo::Named(Transaction& tx) {
  return GuardValue<std::vector<std::string>>("read the key files rows name", [&] {
    std::vector<std::string> out;
    for (const auto& row :
         tx.Exec("key_paths_named",
                 "SELECT key_path FROM ca_generations UNION SELECT key_path FROM "
                 "ocsp_responder_certs UNION SELECT key_path FROM "
                 "ocsp_responder_cert_history")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

}  // namespace certctl
