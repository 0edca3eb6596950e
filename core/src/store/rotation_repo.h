// Private to core/src: the CA rotation journal (migration 0006), one row per
// `certctl-admin ca rotate` in ca_rotations and one per step taken in
// ca_rotation_steps. Only core/src/ops/ca_rotate*.cc use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certctl/store/database.h"
#include "certctl/util/clock.h"

namespace certctl {

struct RotationRecord {
  int64_t id = 0;  // assigned by the database
  std::string issuer_id;
  std::string mode;   // "generate", "import", "sub-ca"
  std::string state;  // "running", "awaiting-signature", "completed", "aborted"
  int from_generation = 0;
  int to_generation = 0;
  std::string old_cert_sha256;
  std::string new_cert_pem;     // "" until known
  std::string new_chain_pem;    // sub-CA: its issuers, nearest first
  std::string csr_pem;          // sub-CA
  std::string key_path;         // the new generation's key file
  std::string cert_path;        // and its certificate file
  std::string source_key_path;  // import: the operator's key file
  std::string csr_path;         // sub-CA: where the CSR was written
  std::string backup_dir;
  std::string backup_path;        // the backup this rotation made, once made
  std::string parameters = "{}";  // JSON: what generate and sub-CA modes make
  std::vector<std::string> test_serials;
  std::string started_by;
  TimePoint started_at;
  TimePoint updated_at;
  std::optional<TimePoint> finished_at;
};

struct RotationStepRecord {
  int position = 0;
  std::string step;
  int attempts = 0;
  TimePoint begun_at;
  std::optional<TimePoint> done_at;
  std::string detail;
};

class RotationRepo {
 public:
  // Inserts a rotation and returns its id. AlreadyExists when the issuer has
  // an unfinished one (a unique index) or the generation number is taken.
  static Result<int64_t> Insert(Transaction& tx, const RotationRecord& r);
  // The issuer's rotation in state running or awaiting-signature.
  static Result<std::optional<RotationRecord>> FindUnfinished(Transaction& tx,
                                                              const std::string& issuer);
  // The issuer's most recent rotation, whatever its state.
  static Result<std::optional<RotationRecord>> FindLatest(Transaction& tx,
                                                          const std::string& issuer);
  // The number a new generation of the issuer gets: above every generation
  // and every number a rotation ever took (an aborted rotation's files keep
  // their name, so its number is never given again).
  static Result<int> NextGeneration(Transaction& tx, const std::string& issuer);
  // Writes the fields a rotation changes as it goes: state, new_cert_pem,
  // new_chain_pem, csr_pem, backup_path and finished_at (set when the state
  // is completed or aborted).
  static Status Update(Transaction& tx, const RotationRecord& r);
  static Status AddTestSerial(Transaction& tx, int64_t id, const std::string& serial);

  // Records that `step` is about to be taken (again: attempts + 1).
  static Status BeginStep(Transaction& tx, int64_t id, int position,
                          const std::string& step);
  static Status FinishStep(Transaction& tx, int64_t id, const std::string& step,
                           const std::string& detail);
  static Result<std::vector<RotationStepRecord>> Steps(Transaction& tx, int64_t id);

  // Serials of the unrevoked certificates of a generation with this exact
  // subject: what a verify step killed between issuing its test certificate
  // and recording its serial left behind.
  static Result<std::vector<std::string>> UnrevokedWithSubject(
      Transaction& tx, const std::string& issuer, int generation,
      const std::string& subject);
};

}  // namespace certctl
