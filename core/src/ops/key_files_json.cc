#include "certctl/ops/key_files_json.h"

#include "certctl/util/time_format.h"

namespace certctl::ops {

nlohmann::json ToJson(const KeyBackup& b) {
  return {{"path", b.path}, {"retired_at", FormatRfc3339(b.retired_at)}};
}

nlohmann::json ToJson(const KeyBackupsPruned& r) {
  nlohmann::json removed = nlohmann::json::array(), kept = nlohmann::json::array();
  for (const auto& b : r.removed) removed.push_back(ToJson(b));
  for (const auto& b : r.kept) kept.push_back(ToJson(b));
  return {{"directory", r.directory},
          {"retention", FormatDuration(r.retention)},
          {"removed", removed},
          {"kept", kept},
          {"named", r.named}};
}

}  // namespace certctl::ops
