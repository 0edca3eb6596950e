// RotationRun: the steps of `ca rotate`, each recorded in the journal before
// it is taken, each safe to take again after a crash (it finds what an
// earlier attempt did and goes on from there).
#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/fail_point.h"
#include "certctl/util/files.h"
#include "ops/ca_rotate_internal.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"

namespace certctl::ops::rotation {
namespace {

namespace fs = std::filesystem;

// How long a step waits for the locks of the procedures it calls (a
// certctld bootstrapping a responder or signing a CRL holds them briefly).
constexpr std::chrono::seconds kInnerLockWait{30};

std::string Label(const std::string& issuer, int generation) {
  return issuer + "/g" + std::to_string(generation);
}

Result<UniquePtr<EVP_PKEY>> CsrPublicKey(const std::string& pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  UniquePtr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return OpenSslError(StatusCode::kCorruption, "the rotation's CSR");
  UniquePtr<EVP_PKEY> key(X509_REQ_get_pubkey(req.get()));
  if (!key) return OpenSslError(StatusCode::kCorruption, "the rotation's CSR key");
  return key;
}

// A fresh directory for this attempt's backup under the rotation's backup
// directory (created 0700 when missing): a backup never goes into a
// directory an interrupted attempt left half-written.
Result<std::string> BackupDirectoryFor(const RotationRecord& r) {
  std::error_code ec;
  if (!fs::exists(r.backup_dir, ec)) {
    RETURN_IF_ERROR(EnsureDirectory(r.backup_dir, 0700));
  }
  std::string base =
      (fs::path(r.backup_dir) / (r.issuer_id + "-rotation-" + std::to_string(r.id)))
          .string();
  std::string dir = base;
  for (int n = 2; fs::exists(dir, ec); ++n) dir = base + "." + std::to_string(n);
  return dir;
}

}  // namespace

struct RotationRun::StepDef {
  const char* name;
  FailPoint done;  // reached once the step is recorded as done
  Status (RotationRun::*take)();
  bool sub_ca_only = false;
};

const std::vector<RotationRun::StepDef>& RotationRun::Steps() {
  static const std::vector<StepDef> steps = {
      {"backup", "rotate.backed-up", &RotationRun::Backup},
      {"write-key", "rotate.key-written", &RotationRun::WriteKey},
      {"import-signed", "rotate.signed-imported", &RotationRun::ImportSigned, true},
      {"register-generation", "rotate.generation-registered", &RotationRun::Register},
      {"bootstrap-responder", "rotate.responder-bootstrapped",
       &RotationRun::BootstrapResponder},
      {"sign-crl", "rotate.crl-signed", &RotationRun::SignCrl},
      {"switch-issuance", "rotate.issuance-switched", &RotationRun::Switch},
      {"notify-daemons", "rotate.daemons-notified", &RotationRun::Notify},
      {"verify", "rotate.verified", &RotationRun::Verify},
  };
  return steps;
}

std::vector<std::pair<std::string, bool>> RotationRun::StepList() {
  std::vector<std::pair<std::string, bool>> out;
  for (const auto& step : Steps()) out.emplace_back(step.name, step.sub_ca_only);
  return out;
}

RotationRun::RotationRun(OpContext& ctx, RotationRecord record, NewMaterial material,
                         OpReport& report)
    : ctx_(ctx),
      record_(std::move(record)),
      material_(std::move(material)),
      report_(report) {}

OpContext RotationRun::InnerContext() const {
  OpContext inner = ctx_;
  inner.dry_run = false;
  inner.lock_wait = std::max<std::chrono::milliseconds>(ctx_.lock_wait, kInnerLockWait);
  return inner;
}

Status RotationRun::Continue() {
  ASSIGN_OR_RETURN(journal_,
                   ctx_.db.Query<std::vector<RotationStepRecord>>([&](Transaction& tx) {
                     return RotationRepo::Steps(tx, record_.id);
                   }));
  int position = 0;
  for (const auto& step : Steps()) {
    if (step.sub_ca_only && record_.mode != "sub-ca") continue;
    ++position;
    bool done = std::any_of(journal_.begin(), journal_.end(), [&](const auto& j) {
      return j.step == step.name && j.done_at;
    });
    if (done) continue;
    if (step.take == &RotationRun::ImportSigned && !material_.cert) {
      record_.state = "awaiting-signature";
      RETURN_IF_ERROR(ctx_.db.Run(
          [&](Transaction& tx) { return RotationRepo::Update(tx, record_); }));
      report_.steps.push_back("waiting for the CSR " + record_.csr_path +
                              " to be signed");
      return Status::Ok();
    }
    RETURN_IF_ERROR(Take(step, position));
  }
  record_.state = "completed";
  return ctx_.db.Run([&](Transaction& tx) { return RotationRepo::Update(tx, record_); });
}

Status RotationRun::Take(const StepDef& step, int position) {
  RETURN_IF_ERROR(Begin(step.name, position));
  detail_.clear();
  finished_ = false;
  Status s = (this->*step.take)();
  if (!s.ok()) return s.WithContext(std::string("step ") + step.name);
  if (!finished_) RETURN_IF_ERROR(Finish(step.name, detail_));
  report_.steps.push_back(std::string(step.name) + ": " + detail_);
  return HitFailPoint(step.done);
}

Status RotationRun::Begin(const std::string& step, int position) {
  return ctx_.db.Run([&](Transaction& tx) {
    return RotationRepo::BeginStep(tx, record_.id, position, step);
  });
}

Status RotationRun::Finish(const std::string& step, const std::string& detail) {
  return FinishWith(step, detail, [](Transaction&) { return Status::Ok(); });
}

Status RotationRun::FinishWith(const std::string& step, const std::string& detail,
                               const std::function<Status(Transaction&)>& change) {
  RETURN_IF_ERROR(ctx_.db.Run([&](Transaction& tx) -> Status {
    RETURN_IF_ERROR(change(tx));
    return RotationRepo::FinishStep(tx, record_.id, step, detail);
  }));
  finished_ = true;
  return Status::Ok();
}

Status RotationRun::Backup() {
  ASSIGN_OR_RETURN(std::string dir, BackupDirectoryFor(record_));
  ASSIGN_OR_RETURN(std::string written, BackupForRotation(ctx_, record_, dir, report_));
  record_.backup_path = dir;
  detail_ = "backed up " + Label(record_.issuer_id, record_.from_generation) +
            " and its responders into " + dir + " (" + written + ")";
  return FinishWith("backup", detail_,
                    [&](Transaction& tx) { return RotationRepo::Update(tx, record_); });
}

// The key in memory, and in the journal what it belongs to, before the key
// file is written: a key file found later is checked against the journal.
Status RotationRun::EnsureMaterialForKey() {
  if (fs::exists(record_.key_path)) {
    auto key = LoadPrivateKeyFile(record_.key_path);
    if (!key.ok()) return key.status().WithContext("the new key file");
    UniquePtr<EVP_PKEY> expected;
    if (record_.mode == "sub-ca") {
      ASSIGN_OR_RETURN(expected, CsrPublicKey(record_.csr_pem));
    } else {
      ASSIGN_OR_RETURN(material_.cert, ParseCertificatePem(record_.new_cert_pem));
      expected.reset(X509_get_pubkey(material_.cert.get()));
    }
    if (!expected || !SamePublicKey(key->get(), expected.get())) {
      return Status::AlreadyExists(record_.key_path +
                                   " exists and is not the key this rotation made; it is "
                                   "never replaced: move it away, then --resume");
    }
    material_.key = std::move(key).value();
    return Status::Ok();
  }
  if (material_.key) return Status::Ok();  // made by this process, already recorded
  if (record_.mode == "import") {
    auto key = LoadPrivateKeyFile(record_.source_key_path);
    if (!key.ok()) return key.status().WithContext("the key file to import");
    ASSIGN_OR_RETURN(material_.cert, ParseCertificatePem(record_.new_cert_pem));
    if (!SamePublicKey(key->get(), X509_get0_pubkey(material_.cert.get()))) {
      return Status::FailedPrecondition(record_.source_key_path +
                                        " no longer holds the key of the certificate "
                                        "being imported");
    }
    material_.key = std::move(key).value();
    return Status::Ok();
  }
  // No key in memory: a sub-CA's is made here, and a resumed rotation's was
  // lost with the process that made it (no file was written): make one.
  ASSIGN_OR_RETURN(MakeSpec spec, MakeSpec::FromJson(record_.parameters));
  ASSIGN_OR_RETURN(
      auto from, ctx_.db.Query<std::optional<CaGenerationRecord>>([&](Transaction& tx) {
        return IssuerRepo::FindGeneration(tx, record_.issuer_id, record_.from_generation);
      }));
  if (!from) return Status::Corruption("the generation rotated from is gone");
  ASSIGN_OR_RETURN(auto previous, ParseCertificatePem(from->cert_pem));
  if (record_.mode == "sub-ca") {
    ASSIGN_OR_RETURN(material_, GenerateRequest(spec, previous.get()));
    record_.csr_pem = material_.csr_pem;
  } else {
    ASSIGN_OR_RETURN(material_, GenerateMaterial(ctx_, spec, previous.get()));
    record_.new_cert_pem = CertificateToPem(material_.cert.get());
  }
  return ctx_.db.Run([&](Transaction& tx) { return RotationRepo::Update(tx, record_); });
}

Status RotationRun::WriteCertificateOrRequest() {
  if (record_.mode == "sub-ca") return WriteOnce(record_.csr_path, record_.csr_pem, 0644);
  return WriteOnce(record_.cert_path, CertificateToPem(material_.cert.get()), 0644);
}

Status RotationRun::WriteKey() {
  ASSIGN_OR_RETURN(auto removed, RemoveInterruptedWrites(record_));
  for (const auto& file : removed) {
    report_.steps.push_back("removed " + file +
                            ", left behind by an interrupted write of this rotation");
  }
  RETURN_IF_ERROR(EnsureMaterialForKey());
  if (!fs::exists(record_.key_path)) {
    RETURN_IF_ERROR(WritePrivateKeyFile(
        record_.key_path, material_.key.get(),
        {.allow_overwrite = false, .before_rename = "rotate.key-temp-written"}));
  }
  RETURN_IF_ERROR(WriteCertificateOrRequest());
  detail_ = "wrote the new key " + record_.key_path + " (0600) and " +
            (record_.mode == "sub-ca" ? "the CSR " + record_.csr_path
                                      : "the certificate " + record_.cert_path);
  return Status::Ok();
}

Status RotationRun::ImportSigned() {
  std::string pem = CertificateToPem(material_.cert.get());
  RETURN_IF_ERROR(WriteOnce(record_.cert_path, pem, 0644));
  record_.new_cert_pem = pem;
  record_.new_chain_pem = material_.chain_pem;
  record_.state = "running";
  detail_ =
      "wrote the signed certificate " + record_.cert_path +
      (material_.chain_pem.empty() ? "" : " (with its chain, kept in the database)");
  return FinishWith("import-signed", detail_,
                    [&](Transaction& tx) { return RotationRepo::Update(tx, record_); });
}

Status RotationRun::Register() {
  // The key file is in place and matches before the generation exists, so no
  // certificate can ever be issued by a generation whose key is missing.
  auto key = LoadPrivateKeyFile(record_.key_path);
  if (!key.ok()) return key.status().WithContext("the new generation's key");
  ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(record_.new_cert_pem));
  if (!SamePublicKey(key->get(), X509_get0_pubkey(cert.get()))) {
    return Status::FailedPrecondition(record_.key_path +
                                      " does not hold the new certificate's key");
  }
  CaGenerationRecord g;
  g.issuer_id = record_.issuer_id;
  g.generation = record_.to_generation;
  g.state = GenerationState::kPending;
  g.cert_pem = record_.new_cert_pem;
  g.cert_sha256 = FingerprintSha256(cert.get());
  g.key_path = record_.key_path;
  g.subject = SubjectOf(cert.get());
  g.not_before = NotBefore(cert.get());
  g.not_after = NotAfter(cert.get());
  g.chain_pem = record_.new_chain_pem;
  detail_ = "registered " + Label(g.issuer_id, g.generation) + " (" + g.subject +
            ", sha256 " + g.cert_sha256.substr(0, 16) + "...) as pending";
  return FinishWith("register-generation", detail_, [&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto existing,
                     IssuerRepo::FindGeneration(tx, g.issuer_id, g.generation));
    if (!existing) return IssuerRepo::InsertGeneration(tx, g);
    if (existing->cert_sha256 != g.cert_sha256) {
      return Status::Corruption(Label(g.issuer_id, g.generation) +
                                " exists with another certificate");
    }
    return Status::Ok();
  });
}

Status RotationRun::BootstrapResponder() {
  OpContext inner = InnerContext();
  OpReport sub;
  ASSIGN_OR_RETURN(auto ensured, EnsureOcspResponder(inner, record_.issuer_id,
                                                     record_.to_generation, sub));
  detail_ = ensured.responder
                ? "responder " + ensured.responder->serial + " of " +
                      Label(record_.issuer_id, record_.to_generation) + " (key " +
                      ensured.responder->key_path + ")"
                : "responder of " + Label(record_.issuer_id, record_.to_generation);
  return Status::Ok();
}

Status RotationRun::SignCrl() {
  OpContext inner = InnerContext();
  OpReport sub;
  RegenerateOptions options;
  options.generation = record_.to_generation;
  ASSIGN_OR_RETURN(auto crl, RegenerateCrl(inner, record_.issuer_id,
                                           CrlTrigger::kRotation, options, sub));
  detail_ = "signed CRL " +
            (crl.crls.empty() ? std::string("?") : std::to_string(crl.crls[0].number)) +
            " of " + Label(record_.issuer_id, record_.to_generation);
  return Status::Ok();
}

Status RotationRun::Switch() {
  const std::string& issuer = record_.issuer_id;
  detail_ = Label(issuer, record_.from_generation) + " retired, " +
            Label(issuer, record_.to_generation) + " active; certctld processes notified";
  return FinishWith("switch-issuance", detail_, [&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto active, IssuerRepo::ActiveGeneration(tx, issuer));
    if (!active || active->generation != record_.to_generation) {
      if (!active || active->generation != record_.from_generation) {
        return Status::FailedPrecondition("the active generation of " + issuer +
                                          " is no longer " +
                                          std::to_string(record_.from_generation) +
                                          " (changed meanwhile); --abort this rotation");
      }
      RETURN_IF_ERROR(IssuerRepo::ChangeGenerationState(
          tx, issuer, record_.from_generation, GenerationState::kActive,
          GenerationState::kRetired));
      RETURN_IF_ERROR(IssuerRepo::ChangeGenerationState(tx, issuer, record_.to_generation,
                                                        GenerationState::kPending,
                                                        GenerationState::kActive));
    }
    return InvalidationRepo::Notify(tx, {"all", issuer, ""});
  });
}

Status RotationRun::Notify() {
  detail_ = "sent NOTIFY certctl_invalidate {all, " + record_.issuer_id +
            "}: running certctld processes drop what they hold in memory of " +
            record_.issuer_id + " and sign with " +
            Label(record_.issuer_id, record_.to_generation);
  return FinishWith("notify-daemons", detail_, [&](Transaction& tx) {
    return InvalidationRepo::Notify(tx, {"all", record_.issuer_id, ""});
  });
}

Status RotationRun::Verify() {
  ASSIGN_OR_RETURN(detail_, VerifyNewGeneration(ctx_, record_, report_));
  return Status::Ok();
}

std::vector<RotationStepState> StepStates(
    const RotationRecord& record, const std::vector<RotationStepRecord>& journal) {
  std::vector<RotationStepState> out;
  RotationMode mode = record.mode == "sub-ca"   ? RotationMode::kSubCa
                      : record.mode == "import" ? RotationMode::kImport
                                                : RotationMode::kGenerate;
  for (const auto& name : RotationStepNames(mode)) {
    RotationStepState s{name, "to do", 0, std::nullopt, std::nullopt, ""};
    for (const auto& j : journal) {
      if (j.step != name) continue;
      s.state = j.done_at ? "done" : "interrupted";
      s.attempts = j.attempts;
      s.begun_at = j.begun_at;
      s.done_at = j.done_at;
      s.detail = j.detail;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<std::string>> RemoveInterruptedWrites(const RotationRecord& record) {
  std::set<std::string> ours;
  for (const auto& path : {record.key_path, record.cert_path, record.csr_path}) {
    if (!path.empty()) ours.insert(fs::path(path).filename().string());
  }
  auto accept = [&](std::string_view target) {
    return ours.count(std::string(target)) > 0;
  };
  std::set<std::string> dirs = {fs::path(record.key_path).parent_path().string()};
  if (!record.csr_path.empty()) dirs.insert(fs::path(record.csr_path).parent_path());
  std::vector<std::string> removed;
  for (const auto& dir : dirs) {
    ASSIGN_OR_RETURN(auto here,
                     RemoveStaleTempFiles(dir, {std::chrono::seconds(0), accept}));
    removed.insert(removed.end(), here.begin(), here.end());
  }
  return removed;
}

}  // namespace certctl::ops::rotation

namespace certctl::ops {

const std::vector<std::string>& RotationStepNames(RotationMode mode) {
  static const auto names = [] {
    std::vector<std::vector<std::string>> out(3);
    for (int m = 0; m < 3; ++m) {
      for (const auto& step : rotation::RotationRun::StepList()) {
        if (step.second && m != static_cast<int>(RotationMode::kSubCa)) continue;
        out[m].push_back(step.first);
      }
    }
    return out;
  }();
  return names[static_cast<int>(mode)];
}

}  // namespace certctl::ops
