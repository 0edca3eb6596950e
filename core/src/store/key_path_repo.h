// The key files the database names: every CA generation's key_path and every
// OCSP responder's, current and in history. Private to core/src.
#pragma once

#include <string>
#include <vector>

#include "certctl/store/database.h"

namespace certctl {

class KeyPathRepo {
 public:
  // Each path once, as stored.
  static Result<std::vector<std::string>> Named(Transaction& tx);
};

}  // namespace certctl
