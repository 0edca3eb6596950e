// Cached CRLs (crl_cache) and the record of every generation attempt
// (crl_generation_events).
//
// The CRL number counter itself is IssuerRepo::NextCrlNumber/LastCrlNumber;
// deleting cache rows is InvalidationRepo::DropCrls; the revocations are
// streamed by RevocationRepo::ForEachInGeneration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"

namespace certctl {

struct CrlCacheRecord {
  std::string issuer_id;
  int generation = 0;
  std::string crl_der;  // empty in a summary (FindSummary)
  int64_t crl_number = 0;
  TimePoint this_update;
  TimePoint next_update;
  TimePoint generated_at;
  int64_t generation_duration_ms = 0;
  int64_t revoked_count = 0;
  int64_t size = 0;        // octet_length(crl_der), filled on reads
  std::string der_sha256;  // raw SHA-256 of crl_der computed by the database, on reads
};

struct CrlGenerationEvent {
  int64_t id = 0;  // assigned by the database
  std::string issuer_id;
  int generation = 0;
  TimePoint started_at;
  bool succeeded = false;
  std::string error;  // empty when it succeeded
  int64_t duration_ms = 0;
  std::optional<int64_t> revoked_count;  // unset when generation did not get that far
  std::optional<int64_t> crl_number;
  std::optional<int64_t> crl_size;
  std::string trigger;  // CrlTriggerName()
  std::string runner;   // "host:pid"
};

class CrlRepo {
 public:
  // The cached CRL of a generation with its bytes (read in slices of a few MB
  // so a large CRL is not held several times over). Busy when the row was
  // replaced while it was being read (its SHA-256 no longer matches).
  static Result<std::optional<CrlCacheRecord>> Find(Transaction& tx,
                                                    const std::string& issuer,
                                                    int generation);
  // The same row without crl_der (size and der_sha256 set), so a reader can
  // tell whether the row changed without transferring it.
  static Result<std::optional<CrlCacheRecord>> FindSummary(Transaction& tx,
                                                           const std::string& issuer,
                                                           int generation);
  // Inserts the row or replaces the existing one, but only when
  // record.crl_number is above the cached number: FailedPrecondition naming
  // both numbers otherwise, and nothing changes. The bytes travel in slices
  // of a few MB (through a temporary table), so the driver never holds
  // another full copy. InvalidArgument for an empty crl_der.
  static Status Upsert(Transaction& tx, const CrlCacheRecord& record);

  // Moves the CRL number counter of a generation to `published` + 1 when it is
  // at or below `published` (the counter was rolled back behind the cached
  // CRL, e.g. by a partial restore), and returns that number; the counter's
  // trigger still refuses to go down.
  static Result<int64_t> ReserveNumberAbove(Transaction& tx, const std::string& issuer,
                                            int generation, int64_t published);
};

class CrlEventRepo {
 public:
  // Appends an event; returns its id.
  static Result<int64_t> Append(Transaction& tx, const CrlGenerationEvent& event);
  // The newest `limit` events of a generation, newest first.
  static Result<std::vector<CrlGenerationEvent>> Recent(Transaction& tx,
                                                        const std::string& issuer,
                                                        int generation, int limit);
};

}  // namespace certctl
