// The audit log's hash chain: each row's hash, computed here in certctl's own
// code and never by a function stored in the database it protects.
//
// Version 2 (schema 3 on): a row's hash is HMAC-SHA256(audit key,
// KeyedMessage(row)). The message frames every column, the row's position in
// the log (seq), its id, the id of the key and the previous row's hash, so
// without the key nobody can write a row that verifies: an edited, inserted or
// re-hashed row shows, and so does a deleted one (the next row names its seq
// and hash). Deleting the newest rows leaves a shorter chain that is valid in
// itself; the anchor file (anchor.h) catches that.
//
// Version 1 (rows written before schema 3): SHA-256 of the previous hash and
// the row, as the database computed it (migration 0001). Anyone who can write
// to the database can recompute it, so a version-1 row proves nothing about a
// change made together with recomputed hashes. The first version-2 row binds
// the hash of the last version-1 row: every change to them after that shows.
#pragma once

#include <string>

#include "certctl/audit/audit_key.h"
#include "certctl/audit/event.h"

namespace certctl::audit {

inline constexpr int kUnkeyedChain = 1;
inline constexpr int kKeyedChain = 2;

// The bytes a version-2 row's HMAC covers. Requires row.seq.
std::string KeyedMessage(const AuditEvent& row);

// HMAC-SHA256(key, KeyedMessage(row)).
Result<std::string> KeyedDigest(const AuditKey& key, const AuditEvent& row);

// The version-1 digest, exactly as audit_event_digest() of migration 0001
// computed it: sha256(prev_hash || concat_ws(0x1f, id, occurred_at as
// YYYY-MM-DDTHH:MM:SS.ffffffZ, actor, host, action, target, outcome,
// command_line, parameters, detail, duration_ms or '', correlation_id)).
std::string UnkeyedDigest(const AuditEvent& row);

// occurred_at as whole microseconds since the epoch, the precision the
// database keeps and both digests cover.
int64_t OccurredMicros(const AuditEvent& row);

}  // namespace certctl::audit
