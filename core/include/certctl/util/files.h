// File helpers for key material and generated files.
//
// Key files are written atomically (temporary file in the same directory,
// fsync, rename, fsync of the directory) with the requested mode, and an
// existing file is never replaced without first being kept as a backup.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl {

struct WriteOptions {
  mode_t mode = 0600;           // mode of the written file; default owner-only
  bool keep_backup = true;      // if the target exists, keep it as <path>.bak-<UTC stamp>
  bool allow_overwrite = true;  // false: AlreadyExists when the target exists
};

// Writes `data` to `path` atomically. Returns the backup path in `backup_out`
// when an existing file was kept (empty otherwise).
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view data,
                       const WriteOptions& options = {},
                       std::string* backup_out = nullptr);

// Reads a whole file; NotFound / PermissionDenied / Internal with the path named.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Creates `dir` (and parents) if missing and sets its mode to exactly `mode`.
Status EnsureDirectory(const std::filesystem::path& dir, mode_t mode);

// Mode bits (permissions only) of an existing file.
Result<mode_t> FileMode(const std::filesystem::path& path);

}  // namespace certctl
