// The configuration keys as certctl.yaml(5) documents them, from the same
// table the loader parses with (core/src/config/config.cc), so the page and
// the example file cannot drift from the loader.
#pragma once

#include <string>
#include <vector>

namespace certctl {

struct ConfigKeyInfo {
  std::string key;            // "crl_validity"
  std::string environment;    // "CERTCTL_CRL_VALIDITY"
  std::string type;           // "duration (90s, 15m, 1h, 7d)"
  std::string default_value;  // as the file spells it; "" when none
  std::string meaning;
  std::string example;  // a value the loader accepts (the default when there is one)
  bool secret = false;  // also KEY_file / CERTCTL_KEY_FILE; the default never shown
};

// Every scalar key, in table order. api_keys and trust_anchors, lists that
// only the file can set, are not in it.
std::vector<ConfigKeyInfo> ConfigKeys();

}  // namespace certctl
