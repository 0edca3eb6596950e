// Private to core/src/store: PostgreSQL array literals for parameters.
#pragma once

#include <string>
#include <vector>

namespace certctl {

// A PostgreSQL text array literal ({"a","b"}): libpqxx 6.4 has no conversion
// of containers to array parameters, so the literal is spelled here. Every
// element is quoted, with `"` and `\` escaped as the array syntax wants.
inline std::string TextArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace certctl
