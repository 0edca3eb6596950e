// The migration files compiled into the binaries (generated source).
#pragma once

#include <string>
#include <vector>

namespace certctl::embedded {

struct EmbeddedFile {
  const char* file_name;  // "0001_init.sql"
  const char* content;
};

const std::vector<EmbeddedFile>& MigrationFiles();

}  // namespace certctl::embedded
