// Private to core: the queries of `dr drill` (core/ops) on its restored
// scratch copy, never on the live database: the key files the copy's rows
// name, and those rows pointed at copies in the drill's scratch directory.
#pragma once

#include <string>
#include <vector>

#include "certctl/store/database.h"

namespace certctl {

struct NamedKeyFile {
  std::string table;  // "ca_generations" or "ocsp_responder_certs"
  std::string issuer_id;
  int generation = 0;
  std::string key_path;
};

class DrillRepo {
 public:
  // The key file of every CA generation and of every current responder.
  static Result<std::vector<NamedKeyFile>> KeyFiles(Transaction& tx);
  // Points the row `file` names at `path`.
  static Status MoveKeyFile(Transaction& tx, const NamedKeyFile& file,
                            const std::string& path);
};

}  // namespace certctl
