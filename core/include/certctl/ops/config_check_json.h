// JSON of `config check`'s result (see op_json.h).
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/config_check.h"

namespace certctl::ops {

// {name, subject, state, message}.
nlohmann::json ToJson(const StartupCheck& check);
// {config_file, checks: [...], would_start}.
nlohmann::json ToJson(const ConfigChecked& result);

}  // namespace certctl::ops
