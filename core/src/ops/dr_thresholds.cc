// `dr check --thresholds FILE`: the DR checks' thresholds from YAML.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>

#include "certctl/ops/dr_check.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

using Member = std::chrono::seconds DrThresholds::*;

const std::map<std::string, Member>& Durations() {
  static const std::map<std::string, Member> members = {
      {"database_backup_warning", &DrThresholds::database_backup_warning},
      {"database_backup_critical", &DrThresholds::database_backup_critical},
      {"database_backup_retention", &DrThresholds::database_backup_retention},
      {"ca_not_after_warning", &DrThresholds::ca_not_after_warning},
      {"ca_not_after_critical", &DrThresholds::ca_not_after_critical},
      {"responder_rotation_warning", &DrThresholds::responder_rotation_warning},
      {"responder_rotation_critical", &DrThresholds::responder_rotation_critical},
      {"responder_expiry_warning", &DrThresholds::responder_expiry_warning},
      {"responder_expiry_critical", &DrThresholds::responder_expiry_critical},
      {"restore_check_warning", &DrThresholds::restore_check_warning},
      {"restore_check_critical", &DrThresholds::restore_check_critical},
      {"drill_warning", &DrThresholds::drill_warning},
      {"drill_critical", &DrThresholds::drill_critical},
      {"secret_warning", &DrThresholds::secret_warning},
      {"secret_critical", &DrThresholds::secret_critical},
      {"crl_time_left_warning", &DrThresholds::crl_time_left_warning},
      {"lock_held_warning", &DrThresholds::lock_held_warning},
  };
  return members;
}

// Ages: the warning comes first (shorter); time left: the warning comes first
// (longer).
Status CheckOrder(const DrThresholds& t, const std::string& path) {
  struct Pair {
    const char* warning;
    const char* critical;
    bool warning_shorter;
  };
  for (const Pair& p :
       {Pair{"database_backup_warning", "database_backup_critical", true},
        Pair{"ca_not_after_warning", "ca_not_after_critical", false},
        Pair{"responder_rotation_warning", "responder_rotation_critical", true},
        Pair{"responder_expiry_warning", "responder_expiry_critical", false},
        Pair{"restore_check_warning", "restore_check_critical", true},
        Pair{"drill_warning", "drill_critical", true},
        Pair{"secret_warning", "secret_critical", true}}) {
    auto w = t.*Durations().at(p.warning);
    auto c = t.*Durations().at(p.critical);
    if (p.warning_shorter ? w >= c : w <= c) {
      return Status::InvalidArgument(path + ": " + p.warning + " must be " +
                                     (p.warning_shorter ? "shorter" : "longer") +
                                     " than " + p.critical);
    }
  }
  return Status::Ok();
}

Status Apply(const YAML::Node& root, const std::string& path, DrThresholds& t) {
  if (root.IsNull()) return Status::Ok();  // an empty file: every default
  if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a YAML mapping");
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    if (!kv.second.IsScalar()) {
      return Status::InvalidArgument(path + ": " + key + " must be a single value");
    }
    std::string value = kv.second.as<std::string>();
    if (key == "backup_dir") {
      t.backup_dir = value;
      continue;
    }
    auto member = Durations().find(key);
    if (member == Durations().end()) {
      return Status::InvalidArgument(path + ": unknown key " + key);
    }
    auto d = ParseDuration(value);
    if (!d.ok()) {
      return Status::InvalidArgument(path + ": " + key + ": " + d.status().message());
    }
    t.*member->second = *d;
  }
  return CheckOrder(t, path);
}

}  // namespace

Result<DrThresholds> LoadDrThresholds(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Status::NotFound("thresholds file " + path + " does not exist");
  }
  DrThresholds t;
  try {
    RETURN_IF_ERROR(Apply(YAML::LoadFile(path), path, t));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return t;
}

}  // namespace certctl::ops
