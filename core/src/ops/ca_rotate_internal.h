// Private to core/src/ops/ca_rotate*.cc: the pieces of `ca rotate`.
//   ca_rotate.cc           RotateCa: the request checked, the plan, the frame
//   ca_rotate_material.cc  the new CA material of each mode, and its checks
//   ca_rotate_run.cc       RotationRun: the journal and the steps
//   ca_rotate_verify.cc    the verify step
//   ca_rotate_abort.cc     --abort
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/ca_rotate.h"
#include "certctl/pki/ca.h"
#include "store/rotation_repo.h"

namespace certctl::ops::rotation {

// What generate and sub-CA modes make, as the journal keeps it
// (RotationRecord::parameters) so that a resumed rotation can make it again.
struct MakeSpec {
  std::string key_type = "ec-p256";
  std::string validity = "10y";
  // RFC 4514; empty: the previous generation's subject, copied as it is
  // encoded in its certificate.
  std::string subject;
  std::string ToJson() const;
  static Result<MakeSpec> FromJson(const std::string& json);
};

// The new CA material a step has in memory. Everything may be unset: a
// resumed rotation reads it back from the files the journal names.
struct NewMaterial {
  UniquePtr<EVP_PKEY> key;
  UniquePtr<X509> cert;
  std::vector<UniquePtr<X509>> chain;  // sub-CA: the issuers, as given
  std::string chain_pem;
  std::string csr_pem;
};

// --- ca_rotate_material.cc -------------------------------------------------

Result<KeyAlgorithm> ParseKeyType(std::string_view name);
Result<std::chrono::seconds> ParseCaValidity(std::string_view text);
// The request's key type, validity and subject checked.
Result<MakeSpec> CheckMakeSpec(const RotateRequest& request, const Config& config);

// A CA certificate checked as an import must be: ValidateCa (a CA,
// keyCertSign and cRLSign, key matches, valid now), it expires no earlier
// than a certificate issued now would, and it is no generation of the issuer
// (neither its certificate nor its key). InvalidArgument with the reason.
Status CheckNewCa(OpContext& ctx, X509* cert, EVP_PKEY* key,
                  const std::vector<CaGenerationRecord>& generations,
                  const std::string& what);

// generate: a new key and its self-signed CA certificate. `previous` is
// the certificate of the generation being replaced (its subject is the
// default).
Result<NewMaterial> GenerateMaterial(OpContext& ctx, const MakeSpec& spec,
                                     X509* previous);
// sub-CA: a new key and its CSR.
Result<NewMaterial> GenerateRequest(const MakeSpec& spec, X509* previous);
// import: the operator's files, checked (CheckNewCa).
Result<NewMaterial> ImportMaterial(OpContext& ctx, const RotateRequest& request,
                                   const std::vector<CaGenerationRecord>& generations);
// sub-CA, --import-signed: the signed certificate checked against the
// pending key (read from `key_path`), CheckNewCa, and the chain file. A
// certificate that is not self-signed and comes without a chain file is a
// warning finding ca.chain_not_checked.
Result<NewMaterial> CheckSignedCertificate(
    OpContext& ctx, const RotateRequest& request, const std::string& key_path,
    const std::vector<CaGenerationRecord>& generations, OpReport& report);

// Where generation `n`'s files go: next to `active_key_path`.
std::string NewKeyPath(const std::string& active_key_path, const std::string& issuer,
                       int n);
std::string NewCertPath(const std::string& active_key_path, const std::string& issuer,
                        int n);

// Writes `content` to `path` (0600 for keys, else 0644) unless the file is
// there with exactly this content; a file there with other content is
// AlreadyExists naming it (never replaced).
Status WriteOnce(const std::string& path, const std::string& content, mode_t mode);

// --- ca_rotate_run.cc --------------------------------------------------------

// One rotation's steps, taken in order from the first not done. The record
// is the journal's row; the material what this process has in memory.
class RotationRun {
 public:
  RotationRun(OpContext& ctx, RotationRecord record, NewMaterial material,
              OpReport& report);

  // Takes every step not done yet. A sub-CA rotation without its signed
  // certificate stops after write-key in state awaiting-signature.
  Status Continue();

  const RotationRecord& record() const { return record_; }

  // Every step's name, and whether only sub-CA rotations take it.
  static std::vector<std::pair<std::string, bool>> StepList();

 private:
  struct StepDef;
  static const std::vector<StepDef>& Steps();

  Status Take(const StepDef& step, int position);
  Status Begin(const std::string& step, int position);
  Status Finish(const std::string& step, const std::string& detail);
  // A step that is a database change: `change` and the journal's "done" in
  // one transaction.
  Status FinishWith(const std::string& step, const std::string& detail,
                    const std::function<Status(Transaction&)>& change);

  Status Backup();
  Status WriteKey();
  Status ImportSigned();
  Status Register();
  Status BootstrapResponder();
  Status SignCrl();
  Status Switch();
  Status Notify();
  Status Verify();

  Status EnsureMaterialForKey();
  Status WriteCertificateOrRequest();
  OpContext InnerContext() const;

  OpContext& ctx_;
  RotationRecord record_;
  NewMaterial material_;
  OpReport& report_;
  std::vector<RotationStepRecord> journal_;
  std::string detail_;     // what the step being taken did, for the journal
  bool finished_ = false;  // the step recorded itself as done
};

// Removes the temporaries interrupted atomic writes of the rotation's files
// (key, certificate, CSR) left, whatever their age: call under the issuer's
// CA lock, which every writer of those files holds. Returns what it removed.
Result<std::vector<std::string>> RemoveInterruptedWrites(const RotationRecord& record);

// The journal's steps as the result shows them, for `mode`.
std::vector<RotationStepState> StepStates(const RotationRecord& record,
                                          const std::vector<RotationStepRecord>& journal);

// --- ca_rotate_backup.cc -----------------------------------------------------

// The backup step: BackupCaHoldingLock into `dir` (a directory that does
// not exist yet; the caller holds the issuer's CA lock). Returns what it
// wrote, for the journal.
Result<std::string> BackupForRotation(OpContext& ctx, const RotationRecord& record,
                                      const std::string& dir, OpReport& report);

// --- ca_rotate_verify.cc -----------------------------------------------------

// The subject of the verify step's test certificates for a rotation.
std::string TestSubjectCn(const RotationRecord& record);
// The verify step: see the contract. Revokes what an earlier attempt left.
// Returns a line for the journal.
Result<std::string> VerifyNewGeneration(OpContext& ctx, RotationRecord& record,
                                        OpReport& report);
// Revokes the rotation's test certificates that are not revoked (recorded
// ones, and any of its subject an interrupted attempt did not record).
Result<int> RevokeTestCertificates(OpContext& ctx, const RotationRecord& record);

// --- ca_rotate_abort.cc ------------------------------------------------------

// --abort of `record` (under the CA lock): see the contract.
Status AbortRotation(OpContext& ctx, RotationRecord& record, OpReport& report);

// --- ca_rotate.cc ------------------------------------------------------------

// "rotation 3 of iss-local (generate, g1 -> g2)".
std::string Describe(const RotationRecord& record);

}  // namespace certctl::ops::rotation
