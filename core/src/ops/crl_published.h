// Private to core/src/ops: the record of published CRLs that does not live in
// the database, so that a database restored from an older backup can never
// make a CRL number repeat or a published revocation disappear.
//
// For every CA generation, next to its CA key file (the directory of
// ca_generations.key_path, which operators back up with the key and which every
// replica that signs CRLs already reads):
//   {issuer}-g{N}.crl-number  the highest CRL number ever used, decimal text
//   {issuer}-g{N}.crl         the last CRL signed (DER), signature and all
// Both are written atomically (temporary file, fsync, rename; 0644: a CRL is
// public) by RegenerateCrl *before* the transaction that publishes the CRL
// commits. A failed write fails the generation (the number is not used); a
// transaction that fails after the write leaves a number that was never
// published on disk, which only makes the next number skip one. The number
// file only goes up: a number not above it is refused.
//
// RegenerateCrl reserves its number above the file's number too, and
// `db post-restore` (certctl/ops/post_restore.h) reads both files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "certctl/model/records.h"
#include "certctl/util/status.h"

namespace certctl::ops::internal {

// "<dir of gen.key_path>/{issuer}-g{N}.crl-number" and ".../{issuer}-g{N}.crl".
std::string PublishedCrlNumberPath(const CaGenerationRecord& gen);
std::string PublishedCrlPath(const CaGenerationRecord& gen);

// The number in the number file; 0 when there is none. Corruption when the
// file holds anything but a decimal number.
Result<int64_t> PublishedCrlNumberFloor(const CaGenerationRecord& gen);

// Records that `number` is used, then the CRL itself. FailedPrecondition
// (nothing written) when `number` is not above the number file's. Errors name
// the path.
Status RecordPublishedCrl(const CaGenerationRecord& gen, int64_t number,
                          const std::string& der);

// The last CRL recorded for the generation (its bytes), or nullopt when none.
Result<std::optional<std::string>> ReadPublishedCrl(const CaGenerationRecord& gen);

}  // namespace certctl::ops::internal
