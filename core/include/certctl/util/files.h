// File helpers for key material and generated files.
//
// Key files are written atomically (temporary file in the same directory,
// fsync, rename, fsync of the directory) with the requested mode, and an
// existing file is never replaced without first being kept as a backup.
// The temporary file is ".<name>.tmp-XXXXXX" (mkstemp's six letters) beside
// the target, mode already final; a process killed mid-write leaves it
// behind, and RemoveStaleTempFiles recognises exactly that pattern.
// Written by root, the file takes the owner and group of its directory (a
// key root writes into certctld's key directory must stay readable by the
// service's user); written by anyone else, it is theirs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/util/fail_point.h"
#include "certctl/util/status.h"

namespace certctl {

struct WriteOptions {
  mode_t mode = 0600;       // mode of the written file; default owner-only
  bool keep_backup = true;  // if the target exists, keep it as <path>.bak-<UTC stamp>
  // false: AlreadyExists when the target exists, decided atomically with the
  // write (link(2) into place, the O_EXCL of a rename), so a file that
  // appears at the target meanwhile is never replaced either.
  bool allow_overwrite = true;
  FailPoint before_rename;  // hit with the temporary file complete; default none
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

// Renames `path` to a fresh "<path>.bak-<UTC stamp>[-N]" (never over an
// existing file) and fsyncs the directory; returns the backup's path. The
// content, mode and owner are the file's own: this is how a key file that is
// no longer used is retired without being deleted.
Result<std::string> KeepAsBackup(const std::filesystem::path& path);

// Removes a file and fsyncs its directory. A missing file is OK.
Status RemoveFileDurably(const std::filesystem::path& path);

// The target name of a temporary file of WriteFileAtomic ("key.pem" for
// ".key.pem.tmp-Ab12Cd"), or nullopt when `filename` is not one.
std::optional<std::string> TempFileTarget(std::string_view filename);

struct TempFileSweep {
  // Only temporaries last modified at least this long ago: a younger one
  // may belong to a write in progress. Zero: any age (the caller holds a
  // lock that excludes every writer of the targets it accepts).
  std::chrono::seconds min_age{600};
  // Only temporaries whose target name this accepts; unset: every target.
  std::function<bool(std::string_view target)> accept;
};

// Removes WriteFileAtomic's temporaries left in `dir` by interrupted writes:
// regular files (not symlinks) named by the pattern above, owned by this
// process's effective user, passing `sweep`. Nothing else is touched, nor
// anything in subdirectories. Returns the paths removed; a missing `dir` is
// not an error.
Result<std::vector<std::string>> RemoveStaleTempFiles(const std::filesystem::path& dir,
                                                      const TempFileSweep& sweep = {});

}  // namespace certctl
