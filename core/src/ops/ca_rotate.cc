// RotateCa: the request checked (everything that can be refused is refused
// here, before anything is written or audited), the plan, and the frame
// (RunMutation under the issuer's CA lock) around RotationRun.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "certctl/ops/certificate_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/identifiers.h"
#include "ops/ca_rotate_internal.h"
#include "store/issuer_repo.h"
#include "store/operation_lock.h"

namespace certctl::ops {
namespace rotation {

std::string Describe(const RotationRecord& r) {
  return "rotation " + std::to_string(r.id) + " of " + r.issuer_id + " (" + r.mode +
         ", g" + std::to_string(r.from_generation) + " -> g" +
         std::to_string(r.to_generation) + ")";
}

}  // namespace rotation

namespace {

using namespace rotation;
namespace fs = std::filesystem;

struct IssuerState {
  std::vector<CaGenerationRecord> generations;
  std::optional<CaGenerationRecord> active;
  std::optional<RotationRecord> unfinished;
  std::vector<RotationStepRecord> journal;  // of `unfinished`
  int next_generation = 0;
};

Result<IssuerState> ReadIssuer(OpContext& ctx, const std::string& issuer) {
  return ctx.db.Query<IssuerState>([&](Transaction& tx) -> Result<IssuerState> {
    IssuerState s;
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("unknown issuer " + issuer);
    ASSIGN_OR_RETURN(s.generations, IssuerRepo::Generations(tx, issuer));
    for (const auto& g : s.generations) {
      if (g.state == GenerationState::kActive) s.active = g;
    }
    ASSIGN_OR_RETURN(s.unfinished, RotationRepo::FindUnfinished(tx, issuer));
    if (s.unfinished) {
      ASSIGN_OR_RETURN(s.journal, RotationRepo::Steps(tx, s.unfinished->id));
    }
    ASSIGN_OR_RETURN(s.next_generation, RotationRepo::NextGeneration(tx, issuer));
    return s;
  });
}

std::string Fingerprint(const std::string& pem) {
  auto cert = ParseCertificatePem(pem);
  return cert.ok() ? FingerprintSha256(cert->get()) : std::string();
}

bool StepDone(const std::vector<RotationStepRecord>& journal, const std::string& step) {
  for (const auto& j : journal) {
    if (j.step == step && j.done_at) return true;
  }
  return false;
}

std::string NextAction(const RotationRecord& r) {
  std::string cmd = "certctl-admin ca rotate " + r.issuer_id;
  if (r.state == "awaiting-signature") {
    return "have the CSR " + r.csr_path + " signed by the parent CA, then run `" + cmd +
           " --import-signed CERT [--chain FILE]` (or `" + cmd + " --abort`)";
  }
  if (r.state == "running") {
    return "run `" + cmd + " --resume` to finish it, or `" + cmd + " --abort` to go back";
  }
  return "";
}

CaRotation ResultOf(const RotationRecord& r,
                    const std::vector<RotationStepRecord>& journal) {
  CaRotation out;
  out.issuer = r.issuer_id;
  out.id = r.id;
  out.mode = r.mode;
  out.state = r.state;
  out.from_generation = r.from_generation;
  out.to_generation = r.to_generation;
  out.old_fingerprint = r.old_cert_sha256;
  out.new_fingerprint = Fingerprint(r.new_cert_pem);
  out.key_path = r.key_path;
  out.cert_path = r.cert_path;
  out.csr_path = r.csr_path;
  out.backup_path = r.backup_path;
  out.steps = StepStates(r, journal);
  out.test_serials = r.test_serials;
  out.next = NextAction(r);
  return out;
}

std::string Absolute(const std::string& path) {
  return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

Status RefuseExisting(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (fs::exists(path, ec) || fs::is_symlink(path, ec)) {
    return Status::InvalidArgument(what + " " + path +
                                   " exists; a rotation never writes over a file: move "
                                   "it away or choose another name");
  }
  return Status::Ok();
}

// What the operator asked for, checked, and the material made or read.
struct Prepared {
  RotationRecord record;
  NewMaterial material;
  std::vector<RotationStepRecord> journal;
};

Result<Prepared> PrepareStart(OpContext& ctx, const RotateRequest& req,
                              const IssuerState& state) {
  if (state.unfinished) {
    // A process taking it now holds the issuer's CA lock: that is "busy"
    // (exit 75, the frame names the holder), not an abandoned rotation.
    ASSIGN_OR_RETURN(auto holder,
                     OperationLock::FindHolder(ctx.db, CaLockName(req.issuer)));
    if (!holder || ctx.dry_run) {
      return Status::AlreadyExists(Describe(*state.unfinished) + " is unfinished; " +
                                   NextAction(*state.unfinished));
    }
  }
  if (!state.active) {
    return Status::FailedPrecondition("issuer " + req.issuer +
                                      " has no active CA generation to rotate from");
  }
  if (req.backup_dir.empty()) {
    return Status::InvalidArgument(
        "--backup-dir DIR is required: a rotation first backs up the current CA");
  }
  Prepared p;
  RotationRecord& r = p.record;
  r.issuer_id = req.issuer;
  r.mode = std::string(RotationModeName(req.mode));
  r.state = "running";
  r.from_generation = state.active->generation;
  r.to_generation = state.next_generation;
  r.old_cert_sha256 = state.active->cert_sha256;
  r.key_path = NewKeyPath(state.active->key_path, req.issuer, r.to_generation);
  r.cert_path = NewCertPath(state.active->key_path, req.issuer, r.to_generation);
  r.backup_dir = Absolute(req.backup_dir);
  r.started_by = ctx.actor.name;
  RETURN_IF_ERROR(RefuseExisting(r.key_path, "the new key file"));
  RETURN_IF_ERROR(RefuseExisting(r.cert_path, "the new certificate file"));
  if (req.mode == RotationMode::kImport) {
    ASSIGN_OR_RETURN(p.material, ImportMaterial(ctx, req, state.generations));
    r.source_key_path = Absolute(req.key_file);
    r.new_cert_pem = CertificateToPem(p.material.cert.get());
    return p;
  }
  ASSIGN_OR_RETURN(MakeSpec spec, CheckMakeSpec(req, ctx.config));
  r.parameters = spec.ToJson();
  if (req.mode == RotationMode::kSubCa) {
    if (req.csr_out.empty())
      return Status::InvalidArgument("sub-CA mode needs --csr-out");
    r.csr_path = Absolute(req.csr_out);
    RETURN_IF_ERROR(RefuseExisting(r.csr_path, "--csr-out"));
    return p;  // the key and CSR are made by the write-key step
  }
  if (ctx.dry_run) return p;  // no key is made for a plan
  ASSIGN_OR_RETURN(auto previous, ParseCertificatePem(state.active->cert_pem));
  ASSIGN_OR_RETURN(p.material, GenerateMaterial(ctx, spec, previous.get()));
  r.new_cert_pem = CertificateToPem(p.material.cert.get());
  return p;
}

Result<Prepared> PrepareUnfinished(OpContext& ctx, const RotateRequest& req,
                                   const IssuerState& state, OpReport& report) {
  if (!state.unfinished) {
    return Status::NotFound("issuer " + req.issuer + " has no unfinished rotation");
  }
  Prepared p;
  p.record = *state.unfinished;
  p.journal = state.journal;
  const RotationRecord& r = p.record;
  bool waiting = r.mode == "sub-ca" && StepDone(state.journal, "write-key") &&
                 !StepDone(state.journal, "import-signed");
  if (req.action == RotationAction::kResume && r.state == "awaiting-signature") {
    return Status::InvalidArgument(
        Describe(r) + " is waiting for its CSR to be signed; " + NextAction(r));
  }
  if (req.action == RotationAction::kImportSigned) {
    if (!waiting) {
      return Status::InvalidArgument(Describe(r) +
                                     " is not waiting for a signed certificate");
    }
    ASSIGN_OR_RETURN(p.material, CheckSignedCertificate(ctx, req, r.key_path,
                                                        state.generations, report));
  }
  return p;
}

// report.plan and the typed plan: what the steps not yet done will do.
RotationPlan Plan(OpContext& ctx, const RotateRequest& req, const Prepared& p,
                  OpReport& report) {
  const RotationRecord& r = p.record;
  RotationPlan plan;
  std::string from = r.issuer_id + "/g" + std::to_string(r.from_generation);
  std::string to = r.issuer_id + "/g" + std::to_string(r.to_generation);
  auto todo = [&](const std::string& step) { return !StepDone(p.journal, step); };
  if (req.action == RotationAction::kAbort) {
    plan.rows.push_back("ca_generations: " + from + " active again, " + to +
                        " (if registered) retired; ca_rotations " + std::to_string(r.id) +
                        " aborted");
    plan.rows.push_back(
        "certificate_revocations: the rotation's test certificates, if "
        "any is unrevoked");
    plan.daemons.push_back(
        "running certctld processes are notified and sign new "
        "certificates with " +
        from + " again");
    report.plan.push_back("make " + from + " active again; no file is deleted");
    return plan;
  }
  if (r.id == 0) plan.rows.push_back("ca_rotations and ca_rotation_steps: the journal");
  if (todo("backup")) {
    plan.files.push_back(
        r.backup_dir + "/" + r.issuer_id +
        "-rotation-<id>/ (0700), as `ca backup` writes it: every "
        "generation's CA certificate and key, the responders' "
        "certificates and keys, the trust bundles (0600), manifest.json");
    plan.rows.push_back("ca_backups: the backup's record");
  }
  if (todo("write-key")) {
    plan.files.push_back(r.key_path + " (0600, the new key; never over a file)");
    plan.files.push_back(r.mode == "sub-ca" ? r.csr_path + " (the CSR)" : r.cert_path);
  }
  if (r.mode == "sub-ca" && todo("import-signed")) {
    plan.files.push_back(r.cert_path + " (the signed certificate, with --import-signed)");
  }
  if (todo("register-generation")) {
    plan.rows.push_back("ca_generations: " + to + " (pending), crl_numbers");
  }
  if (todo("bootstrap-responder")) {
    plan.rows.push_back("ocsp_responder_certs: " + to + "'s responder");
    plan.files.push_back(ctx.config.ocsp_responder_key_dir + "/" + r.issuer_id + "-g" +
                         std::to_string(r.to_generation) + "-<serial>.key (0600)");
  }
  if (todo("sign-crl")) plan.rows.push_back("crl_cache: " + to + "'s first CRL");
  if (todo("switch-issuance")) {
    plan.rows.push_back("ca_generations: " + from + " retired, " + to + " active");
  }
  if (todo("verify")) {
    plan.rows.push_back(
        "certificates, certificate_revocations: a test certificate \"CN=" +
        TestSubjectCn(r) + "\" issued by " + to + " and revoked");
  }
  plan.daemons.push_back(
      "running certctld processes hear NOTIFY certctl_invalidate {all, " + r.issuer_id +
      "}: they drop their in-memory OCSP answers and responders of " + r.issuer_id +
      " and re-read its active generation, without a restart");
  plan.daemons.push_back("new certificates are signed by " + to + " (CRL " +
                         CrlUrl(ctx.config, r.issuer_id, r.to_generation) + ")");
  plan.daemons.push_back(from + " keeps signing OCSP answers and its CRL (" +
                         CrlUrl(ctx.config, r.issuer_id, r.from_generation) +
                         ") for what it issued");
  for (const auto& f : plan.files) report.plan.push_back("write " + f);
  for (const auto& row : plan.rows) report.plan.push_back("add or change " + row);
  for (const auto& d : plan.daemons) report.plan.push_back(d);
  return plan;
}

// Inside the lock: the journal row of a new rotation, unless another process
// started one (or rotated) since the request was checked.
Status OpenJournal(OpContext& ctx, RotationRecord& record) {
  return ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto unfinished, RotationRepo::FindUnfinished(tx, record.issuer_id));
    if (unfinished) {
      return Status::AlreadyExists(Describe(*unfinished) + " is unfinished; " +
                                   NextAction(*unfinished));
    }
    ASSIGN_OR_RETURN(auto active, IssuerRepo::ActiveGeneration(tx, record.issuer_id));
    ASSIGN_OR_RETURN(int next, RotationRepo::NextGeneration(tx, record.issuer_id));
    if (!active || active->generation != record.from_generation ||
        next != record.to_generation) {
      return Status::FailedPrecondition(
          "the CA generations of " + record.issuer_id +
          " changed while the rotation was prepared; run it "
          "again");
    }
    ASSIGN_OR_RETURN(record.id, RotationRepo::Insert(tx, record));
    return Status::Ok();
  });
}

nlohmann::json AuditParameters(const RotateRequest& req, const RotationRecord& r) {
  return {{"action", std::string(RotationActionName(req.action))},
          {"rotation", r.id},
          {"mode", r.mode},
          {"from_generation", r.from_generation},
          {"to_generation", r.to_generation},
          {"old_fingerprint", r.old_cert_sha256},
          {"new_fingerprint", Fingerprint(r.new_cert_pem)}};
}

Result<CaRotation> Finish(OpContext& ctx, const RotationRecord& record, Status s) {
  if (!s.ok()) {
    return s.WithContext(Describe(record) + " stopped; " + NextAction(record));
  }
  auto journal = ctx.db.Query<std::vector<RotationStepRecord>>(
      [&](Transaction& tx) { return RotationRepo::Steps(tx, record.id); });
  if (!journal.ok()) return journal.status();
  return ResultOf(record, *journal);
}

}  // namespace

std::string_view RotationModeName(RotationMode mode) {
  switch (mode) {
    case RotationMode::kGenerate:
      return "generate";
    case RotationMode::kImport:
      return "import";
    case RotationMode::kSubCa:
      return "sub-ca";
  }
  return "unknown";
}

std::string_view RotationActionName(RotationAction action) {
  switch (action) {
    case RotationAction::kStart:
      return "start";
    case RotationAction::kResume:
      return "resume";
    case RotationAction::kAbort:
      return "abort";
    case RotationAction::kImportSigned:
      return "import-signed";
  }
  return "unknown";
}

Result<CaRotation> RotateCa(OpContext& ctx, const RotateRequest& req, OpReport& report) {
  report.operation = "ca.rotate";
  report.target = req.issuer;
  report.dry_run = ctx.dry_run;
  RETURN_IF_ERROR(ParseIssuerId(req.issuer).status());  // before it reaches a query
  ASSIGN_OR_RETURN(IssuerState state, ReadIssuer(ctx, req.issuer));
  ASSIGN_OR_RETURN(Prepared p, req.action == RotationAction::kStart
                                   ? PrepareStart(ctx, req, state)
                                   : PrepareUnfinished(ctx, req, state, report));
  RotationPlan plan = Plan(ctx, req, p, report);

  MutationSpec spec{
      "ca.rotate", req.issuer, AuditParameters(req, p.record), {CaLockName(req.issuer)}};
  // The end event is built from `spec` after the body: the body updates the
  // parameters with what it learnt (the rotation's id, a remade key's
  // fingerprint).
  MutationSpec& audited = spec;
  return RunMutation(ctx, spec, report, [&]() -> Result<CaRotation> {
    if (ctx.dry_run) {
      CaRotation out = ResultOf(p.record, p.journal);
      if (req.action == RotationAction::kStart) {
        // Nothing was started: there is nothing to resume or abort.
        out.state = "planned";
        out.next.clear();
      }
      out.plan = std::move(plan);
      return out;
    }
    RotationRecord record = p.record;
    if (req.action == RotationAction::kAbort) {
      Status s = AbortRotation(ctx, record, report);
      audited.parameters = AuditParameters(req, record);
      return Finish(ctx, record, s);
    }
    if (req.action == RotationAction::kStart) {
      RETURN_IF_ERROR(OpenJournal(ctx, record));
    }
    RotationRun run(ctx, std::move(record), std::move(p.material), report);
    Status s = run.Continue();
    audited.parameters = AuditParameters(req, run.record());
    if (s.ok() && run.record().state == "completed") {
      const RotationRecord& r = run.record();
      report.steps.push_back("rotated " + r.issuer_id + " from generation " +
                             std::to_string(r.from_generation) + " (sha256 " +
                             r.old_cert_sha256 + ") to generation " +
                             std::to_string(r.to_generation) + " (sha256 " +
                             Fingerprint(r.new_cert_pem) + ")");
    }
    return Finish(ctx, run.record(), s);
  });
}

Result<std::optional<CaRotation>> FindUnfinishedCaRotation(OpContext& ctx,
                                                           const std::string& issuer) {
  RETURN_IF_ERROR(ParseIssuerId(issuer).status());
  ASSIGN_OR_RETURN(IssuerState state, ReadIssuer(ctx, issuer));
  if (!state.unfinished) return std::optional<CaRotation>();
  return std::optional<CaRotation>(ResultOf(*state.unfinished, state.journal));
}

}  // namespace certctl::ops
