// What a restored database needs that is not in it (the runbook's "NOT in
// DB" list): CA and responder key files, trust bundles, secrets. Every file
// is opened read-only (ReadFile): a restore check never writes a key file,
// whatever path the dump names.
#include "certctl/ops/trust.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/files.h"
#include "ops/config_key_check.h"
#include "ops/restore_check_internal.h"
#include "store/issuer_repo.h"
#include "store/restore_check_repo.h"

namespace certctl::ops::internal {
namespace {

struct DumpMaterial {
  std::vector<CaGenerationRecord> generations;
  std::vector<ResponderKeyRow> responders;
  std::optional<ConfigKeyCheckRow> key_check;
};

Result<DumpMaterial> ReadMaterial(Database& db) {
  return db.Query<DumpMaterial>([](Transaction& tx) -> Result<DumpMaterial> {
    DumpMaterial m;
    ASSIGN_OR_RETURN(auto issuers, IssuerRepo::List(tx));
    for (const auto& issuer : issuers) {
      ASSIGN_OR_RETURN(auto gens, IssuerRepo::Generations(tx, issuer.id));
      for (auto& g : gens) m.generations.push_back(std::move(g));
    }
    ASSIGN_OR_RETURN(m.responders, RestoreCheckRepo::Responders(tx));
    ASSIGN_OR_RETURN(m.key_check, RestoreCheckRepo::FindKeyCheck(tx));
    return m;
  });
}

std::string Subject(const std::string& issuer, int generation) {
  return issuer + "/g" + std::to_string(generation);
}

// Empty when the file at `path` holds the private key of `cert_pem`, else
// what is wrong with it.
std::string KeyFileProblem(const std::string& path, const std::string& cert_pem) {
  auto cert = ParseCertificatePem(cert_pem);
  if (!cert.ok()) return "its certificate in the dump does not parse";
  auto raw = ReadFile(path);
  if (!raw.ok()) {
    return raw.status().code() == StatusCode::kNotFound ? "missing"
                                                        : raw.status().message();
  }
  auto key = ParsePrivateKeyPem(SecretString(std::move(raw).value()).view());
  if (!key.ok()) return "not a private key: " + key.status().message();
  if (!SamePublicKey(key->get(), X509_get0_pubkey(cert->get()))) {
    return "does not hold the key of the certificate";
  }
  return "";
}

void CheckConfiguredCa(const Config& config, const DumpMaterial& m, OpReport& report) {
  if (config.ca_cert_path.empty() || config.ca_key_path.empty()) {
    report.AddFinding("error", "restore.ca_not_configured", kLocalIssuerId,
                      "CERTCTL_CA_CERT_PATH and CERTCTL_CA_KEY_PATH must name the CA "
                      "certificate and key");
    return;
  }
  auto cert = LoadCertificateFile(config.ca_cert_path);
  if (!cert.ok()) {
    report.AddFinding("error", "restore.ca_unreadable", config.ca_cert_path,
                      "the configured CA certificate: " + cert.status().message());
    return;
  }
  std::string fingerprint = FingerprintSha256(cert->get());
  const CaGenerationRecord* match = nullptr;
  for (const auto& g : m.generations) {
    if (g.issuer_id == kLocalIssuerId && g.cert_sha256 == fingerprint) match = &g;
  }
  if (!match) {
    report.AddFinding("error", "restore.ca_not_in_dump", kLocalIssuerId,
                      "the configured CA certificate " + config.ca_cert_path +
                          " (SHA-256 " + fingerprint + ") is no CA generation of " +
                          kLocalIssuerId +
                          " in the dump: certctld would refuse to start on it");
  } else if (match->state == GenerationState::kPending) {
    report.AddFinding("error", "restore.ca_pending",
                      Subject(kLocalIssuerId, match->generation),
                      "the configured CA certificate is a generation still being "
                      "rotated in: certctld would refuse it (see ca rotate --resume)");
  }
  std::string problem = KeyFileProblem(config.ca_key_path, CertificateToPem(cert->get()));
  if (!problem.empty()) {
    report.AddFinding(
        "error", "restore.ca_key", config.ca_key_path,
        "the configured CA key file " + config.ca_key_path + ": " + problem);
  }
}

void CheckKeyFiles(const DumpMaterial& m, RestoreCheck& result, OpReport& report) {
  for (const auto& g : m.generations) {
    std::string subject = Subject(g.issuer_id, g.generation);
    std::string problem = KeyFileProblem(g.key_path, g.cert_pem);
    result.key_files.push_back({"ca", subject, g.key_path, problem});
    if (problem.empty()) continue;
    report.AddFinding("error", "restore.ca_key_file", subject,
                      "the CA key file of " + subject + ", " + g.key_path + ": " +
                          problem + " (it cannot sign CRLs or OCSP answers)");
  }
  for (const auto& r : m.responders) {
    std::string subject = Subject(r.issuer_id, r.generation);
    std::string problem = KeyFileProblem(r.key_path, r.cert_pem);
    result.key_files.push_back({"ocsp-responder", subject, r.key_path, problem});
    if (problem.empty()) continue;
    report.AddFinding("warning", "restore.responder_key_file", subject,
                      "the OCSP responder key file of " + subject + ", " + r.key_path +
                          ": " + problem +
                          " (certctld would replace the responder, a new key and "
                          "certificate signed by the CA, on the first OCSP request)");
  }
}

void CheckTrustBundles(const Config& config, TimePoint now, OpReport& report) {
  for (const auto& anchor : config.trust_anchors) {
    TrustBundleCheck check = CheckTrustBundleFile(anchor.path, now);
    if (check.ok()) continue;
    report.AddFinding(
        "error", "restore.trust_bundle", anchor.name,
        "trust bundle " + anchor.name + " (" + anchor.path + "): " + check.message);
  }
}

Status CheckEncryptionKeyOf(const Config& config, const DumpMaterial& m,
                            RestoreCheck& result, OpReport& report) {
  ASSIGN_OR_RETURN(KeyCheckOutcome outcome,
                   CheckEncryptionKey(m.key_check, config.config_encryption_key));
  result.encryption_key = std::string(KeyCheckOutcomeName(outcome));
  const char* subject = "config_encryption_key";
  switch (outcome) {
    case KeyCheckOutcome::kOpens:
      break;
    case KeyCheckOutcome::kWrongKey:
      report.AddFinding(
          "error", "restore.encryption_key_wrong", subject,
          "CERTCTL_CONFIG_ENCRYPTION_KEY does not open the dump's key-check value: it "
          "is not the key this database was set up with, and a certctl restored with it "
          "could not read what that key protects. Configure the key the backup was "
          "made with (from your secret manager)");
      break;
    case KeyCheckOutcome::kNoKey:
      report.AddFinding("error", "restore.encryption_key_missing", subject,
                        "CERTCTL_CONFIG_ENCRYPTION_KEY is not configured, and the dump "
                        "was set up with one: configure it from your secret manager");
      break;
    case KeyCheckOutcome::kNoValue:
      report.AddFinding("warning", "restore.encryption_key_unverified", subject,
                        config.config_encryption_key.empty()
                            ? "CERTCTL_CONFIG_ENCRYPTION_KEY is not configured"
                            : "the dump has no key-check value (`db migrate` records "
                              "it): whether CERTCTL_CONFIG_ENCRYPTION_KEY is its key "
                              "cannot be told");
      break;
    case KeyCheckOutcome::kUnknownScheme:
      report.AddFinding("warning", "restore.encryption_key_unverified", subject,
                        "the dump's key-check value uses a scheme this certctl does "
                        "not know (" +
                            m.key_check->algorithm + ")");
      break;
  }
  return Status::Ok();
}

void CheckSecrets(const Config& config, OpReport& report) {
  if (config.api_keys.empty()) {
    report.AddFinding("error", "restore.api_key_missing", "api_key",
                      "no API key is configured (CERTCTL_API_KEY or api_keys): "
                      "certctld's API would accept no request");
  }
  if (config.agent_bootstrap_token.empty()) {
    report.AddFinding("warning", "restore.bootstrap_token_missing",
                      "agent_bootstrap_token",
                      "CERTCTL_AGENT_BOOTSTRAP_TOKEN is not configured");
  }
}

}  // namespace

Status CheckMaterial(OpContext& ctx, Scratch& scratch, RestoreCheck& result,
                     OpReport& report) {
  ASSIGN_OR_RETURN(DumpMaterial m, ReadMaterial(*scratch.db));
  CheckConfiguredCa(ctx.config, m, report);
  CheckKeyFiles(m, result, report);
  CheckTrustBundles(ctx.config, ctx.clock.Now(), report);
  RETURN_IF_ERROR(CheckEncryptionKeyOf(ctx.config, m, result, report));
  CheckSecrets(ctx.config, report);
  return Status::Ok();
}

}  // namespace certctl::ops::internal
