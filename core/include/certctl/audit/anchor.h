// The audit anchor: the head of the audit chain, kept outside the database.
//
// A keyed chain shows every row that was changed, inserted or deleted between
// two rows, but deleting the newest rows leaves a shorter chain that is valid
// in itself. So every writer records the head it appended (position, id and
// hash) in a file on its own host after each commit, and `audit verify
// --anchor FILE` checks that the log still reaches that row, unchanged. The
// file is one line, also what an operator would paste from elsewhere:
//
//   certctl-audit-anchor v1 seq=42 id=57 hash=<64 hex digits> time=2026-11-27T17:00:00Z
//
// A writer only moves the anchor forward, under an flock of FILE.lock, so
// concurrent writers on one host never move it back; it is written atomically
// with mode 0600 (temporary file, fsync, rename), without backups.
//
// The file is per host: it proves the log once reached the row it names. Rows
// appended later by other hosts are covered by their own anchor files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl::audit {

struct AnchorHead {
  int64_t seq = 0;   // the row's position in the log, from 1
  int64_t id = 0;    // audit_events.id
  std::string hash;  // the row's hash, raw bytes (32)
  TimePoint written_at;
};

std::string FormatAnchor(const AnchorHead& head);  // one line, with '\n'
// InvalidArgument saying what is wrong with the text.
Result<AnchorHead> ParseAnchor(std::string_view text);

// NotFound when the file does not exist; InvalidArgument (naming the file)
// when it is not an anchor; PermissionDenied when it cannot be read.
Result<AnchorHead> ReadAnchorFile(const std::filesystem::path& path);

// Records `head` unless the file already names a later row (a higher seq).
// Returns whether it wrote. A file that exists but is not an anchor is left
// alone (it is evidence): InvalidArgument.
Result<bool> AdvanceAnchorFile(const std::filesystem::path& path, const AnchorHead& head);

// Records `head` whatever the file holds (`audit anchor`, after an
// acknowledged break).
Status ReplaceAnchorFile(const std::filesystem::path& path, const AnchorHead& head);

}  // namespace certctl::audit
