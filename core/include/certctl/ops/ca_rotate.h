// `certctl-admin ca rotate`: a new CA generation for an issuer, made active
// on a running system without downtime, step by step, each step recorded in
// a journal (ca_rotations, ca_rotation_steps) before it is taken, so that a
// rotation killed at any moment can be finished (--resume) or undone
// (--abort). JSON of the result: certctl/ops/ca_rotate_json.h.
//
// CONTRACT (implemented in core/src/ops/ca_rotate*.cc):
// - Modes. generate: a new key (RotateRequest::key_type) and a self-signed CA
//   certificate (basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign,
//   both critical, SKI) with the active generation's subject unless one is
//   given. import: the operator's certificate and key (an offline root, an
//   HSM export), refused with InvalidArgument (exit 2) and the reason, before
//   anything is written, when the certificate is not a CA, lacks keyCertSign
//   or cRLSign, does not match the key, is expired or not yet valid, expires
//   before a certificate issued now would (config
//   certificate_default_validity_days), or is already a generation of the
//   issuer (or its key is). sub-CA: a new key and a CSR written to csr_out;
//   the rotation then waits in state "awaiting-signature" until
//   kImportSigned brings the signed certificate, which must match the
//   pending key, be a CA with those usages, be valid as above, and verify
//   through the chain file when one is given.
// - Files. The new generation's key and certificate go next to the active
//   generation's key file, as <dir>/<issuer>-ca-g<N>.key (0600) and .crt
//   (0644), written atomically and never over an existing file; no file is
//   ever deleted, also not by --abort. Generation numbers are never reused:
//   N is above every generation and every earlier rotation's number.
// - Steps, in order (RotationStepNames), each recorded as begun before it
//   is taken and as done once it is (in the same transaction when the step
//   is a database change), with a fail point after each (util/fail_point.h,
//   "rotate.*"):
//     backup               the issuer's CA material, as `ca backup` does,
//                          into a new directory under backup_dir
//     write-key            the new key file (and certificate, or CSR)
//     import-signed        (sub-CA) the signed certificate's file
//     register-generation  ca_generations row N, state "pending"
//     bootstrap-responder  generation N's OCSP responder
//     sign-crl             generation N's first CRL
//     switch-issuance      one transaction: the active generation retired,
//                          N active, NOTIFY certctl_invalidate {all, issuer}
//     notify-daemons       NOTIFY again, once the switch is committed
//     verify               a test certificate issued by N: its chain, a good
//                          OCSP answer from N's responder; revoked; N's CRL
//                          lists it and OCSP says revoked
// - The rotation runs under RunMutation: audit events "ca.rotate" (started,
//   succeeded or failed; parameters: the action, mode, generations, old and
//   new fingerprints), and the issuer's CA lock CaLockName(issuer) (Busy
//   naming the holder, exit 75; the lock `ca backup` and certctld's CA
//   registration take). A second rotation of an issuer while one is
//   unfinished is refused (AlreadyExists, naming it and --resume/--abort);
//   while another process is taking one (it holds the lock), Busy.
// - kResume finishes an unfinished rotation from its first step not done;
//   every step is safe to take again. kAbort makes the previous generation
//   active again (the new one, when registered, becomes retired: it keeps
//   serving what it issued), revokes the verify step's test certificates,
//   notifies running certctld processes, and deletes no file.
// - Dry run (every action): report.plan says which files would be written,
//   which rows added, and what running certctld processes will do; nothing
//   is written (a generate-mode key is made in memory only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/ops/op.h"

namespace certctl::ops {

enum class RotationMode { kGenerate, kImport, kSubCa };
std::string_view RotationModeName(RotationMode mode);  // "generate", "import", "sub-ca"

enum class RotationAction { kStart, kResume, kAbort, kImportSigned };
// "start", "resume", "abort", "import-signed".
std::string_view RotationActionName(RotationAction action);

// The steps of each mode, in order.
const std::vector<std::string>& RotationStepNames(RotationMode mode);

struct RotateRequest {
  std::string issuer;
  RotationAction action = RotationAction::kStart;
  RotationMode mode = RotationMode::kGenerate;  // kStart only
  // generate and sub-CA: "ec-p256" (default), "ec-p384", "rsa-3072",
  // "rsa-4096" or "ed25519".
  std::string key_type = "ec-p256";
  // generate: "<n>y" (365 days each) or "<n>d"; default 10y.
  std::string validity = "10y";
  // generate and sub-CA: RFC 4514 (ParseDistinguishedName); empty: the
  // active generation's subject.
  std::string subject;
  std::string cert_file, key_file;  // import
  std::string csr_out;           // sub-CA, kStart: where the CSR goes (never over a file)
  std::string signed_cert_file;  // sub-CA, kImportSigned
  std::string chain_file;        // sub-CA, kImportSigned: the issuers (optional)
  std::string backup_dir;        // kStart: required; it is created 0700 when missing
};

struct RotationStepState {
  std::string name;
  std::string state;  // "done", "interrupted" (begun, not done), "to do"
  int attempts = 0;
  std::optional<TimePoint> begun_at;
  std::optional<TimePoint> done_at;
  std::string detail;
};

// What a dry run would do.
struct RotationPlan {
  std::vector<std::string> files;    // files it would write
  std::vector<std::string> rows;     // rows it would add or change
  std::vector<std::string> daemons;  // what running certctld processes will do
};

struct CaRotation {
  std::string issuer;
  int64_t id = 0;  // 0 in a dry run of a start
  std::string mode;
  // "running", "awaiting-signature", "completed", "aborted"; "planned" in a
  // dry run.
  std::string state;
  int from_generation = 0;
  int to_generation = 0;
  std::string old_fingerprint;  // SHA-256 of the CA certificates, lowercase hex
  std::string new_fingerprint;  // "" while the new certificate is not known
  std::string key_path;
  std::string cert_path;
  std::string csr_path;     // sub-CA
  std::string backup_path;  // once backed up
  std::vector<RotationStepState> steps;
  std::vector<std::string> test_serials;
  std::string next;  // what the operator does next; "" when nothing
  std::optional<RotationPlan> plan;
};

// The whole procedure (see the contract above). Errors: InvalidArgument for
// a bad request, refused material, or an unfinished rotation in the wrong
// state for the action (--resume while it awaits its signature) (nothing
// written, not audited); NotFound for an unknown issuer or, with
// kResume/kAbort/kImportSigned, no unfinished rotation; AlreadyExists when
// one is unfinished (kStart); Busy (lock); Unavailable (database); and a
// failed step's error, the rotation then being unfinished.
Result<CaRotation> RotateCa(OpContext& ctx, const RotateRequest& request,
                            OpReport& report);

// The issuer's unfinished rotation, if any (what every `ca` command reports).
Result<std::optional<CaRotation>> FindUnfinishedCaRotation(OpContext& ctx,
                                                           const std::string& issuer);

}  // namespace certctl::ops
