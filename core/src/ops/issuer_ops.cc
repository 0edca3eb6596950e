#include "certctl/ops/issuer_ops.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/audit_trail.h"
#include "store/issuer_repo.h"
#include "store/operation_lock.h"

namespace certctl::ops {
namespace {

// How long a starting process waits for another one registering the CA.
constexpr std::chrono::seconds kRegistrationLockWait{30};

std::string Short(const std::string& fingerprint) {
  return fingerprint.substr(0, 16) + "...";
}

// The configured files, read but not yet judged: whether they must be valid
// now depends on which generation they turn out to be.
struct ConfiguredCa {
  CaMaterial ca;
  std::string fingerprint;
};

Result<ConfiguredCa> ReadConfiguredCa(const std::string& cert_path,
                                      const std::string& key_path) {
  ConfiguredCa c;
  ASSIGN_OR_RETURN(c.ca.cert, LoadCertificateFile(cert_path));
  ASSIGN_OR_RETURN(c.ca.key, LoadPrivateKeyFile(key_path));
  c.fingerprint = FingerprintSha256(c.ca.cert.get());
  return c;
}

// Files that are none of the issuer's generations: replaced by hand.
Status NotAGeneration(const std::string& issuer, const std::string& cert_path,
                      const std::string& fingerprint,
                      const std::optional<CaGenerationRecord>& active) {
  std::string now_active =
      active ? "the active CA generation " + std::to_string(active->generation) + " of " +
                   issuer + " is sha256 " + Short(active->cert_sha256)
             : issuer + " has no active CA generation";
  return Status::FailedPrecondition(
      "the CA certificate in " + cert_path + " (sha256 " + Short(fingerprint) +
      ") is none of the CA generations of " + issuer + " (" + now_active +
      "). Were the CA files replaced by hand? Put back the files of one of its "
      "generations: certctl keeps signing CRLs and OCSP answers for what each "
      "generation issued, with the key file its database row names. A new CA is "
      "made active with `certctl-admin ca rotate " +
      issuer +
      "` (a new key, or --cert/--key to import one made elsewhere), which keeps the "
      "old generation serving");
}

// Which generation the configured files are, checked as that generation
// needs (see RegisterConfiguredCa); nullopt when the issuer has none yet.
Result<std::optional<CaGenerationRecord>> MatchGeneration(
    OpContext& ctx, Transaction& tx, const std::string& issuer,
    const std::string& cert_path, const ConfiguredCa& configured) {
  ASSIGN_OR_RETURN(auto generations, IssuerRepo::Generations(tx, issuer));
  if (generations.empty()) return std::optional<CaGenerationRecord>();
  std::optional<CaGenerationRecord> active, match;
  for (auto& g : generations) {
    if (g.state == GenerationState::kActive) active = g;
    if (g.cert_sha256 == configured.fingerprint) match = g;
  }
  if (!match) return NotAGeneration(issuer, cert_path, configured.fingerprint, active);
  if (!active) {
    return Status::FailedPrecondition(
        "issuer " + issuer +
        " has CA generations but none is active (changed by hand?); make one "
        "active with `certctl-admin ca rotate " +
        issuer + "`");
  }
  if (match->state == GenerationState::kPending) {
    return Status::FailedPrecondition(
        "the configured CA files are generation " + std::to_string(match->generation) +
        " of " + issuer +
        ", which an unfinished rotation is bringing in and which does not issue "
        "yet; configure the files of the active generation " +
        std::to_string(active->generation) +
        ", or finish the rotation first with "
        "`certctl-admin ca rotate " +
        issuer + " --resume`");
  }
  if (match->state == GenerationState::kActive) {
    RETURN_IF_ERROR(
        ValidateCa(configured.ca.cert.get(), configured.ca.key.get(), ctx.clock.Now())
            .WithContext("refusing CA " + cert_path));
  } else if (!SamePublicKey(configured.ca.key.get(),
                            X509_get0_pubkey(configured.ca.cert.get()))) {
    return Status::FailedPrecondition(
        "the configured CA key does not match " + cert_path + " (CA generation " +
        std::to_string(match->generation) + " of " + issuer + ")");
  }
  return match;
}

// The configured key is read from where the configuration says, but the
// other programs (certctl-admin, other replicas) read the generation's key
// from the path its row names: say so when the two differ.
void NoteMovedKey(const CaGenerationRecord& g, const std::string& key_path,
                  OpReport& report) {
  std::error_code ec1, ec2;
  auto configured = std::filesystem::weakly_canonical(key_path, ec1);
  auto recorded = std::filesystem::weakly_canonical(g.key_path, ec2);
  if (ec1 || ec2 || configured == recorded) return;
  report.AddFinding(
      "warning", "ca.key_path_differs", g.issuer_id + "/g" + std::to_string(g.generation),
      "the configured CA key " + key_path + " is not the key file " + g.key_path +
          " that CA generation " + std::to_string(g.generation) +
          " names in the database; certctl-admin and other replicas "
          "read that one");
}

// The active generation's key, from the file its row names: a process that
// starts must be able to sign.
// Every CRL is recorded beside its generation's CA key before it is
// published (ops/crl_published.h): a directory this process cannot write
// (certctld.service's ProtectSystem=strict makes /etc read-only; a directory
// owned by root) would fail every CRL regeneration, so it is refused up front.
Status RequireWritableKeyDirectory(const CaGenerationRecord& active) {
  std::filesystem::path dir = std::filesystem::path(active.key_path).parent_path();
  if (dir.empty()) dir = ".";
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0) {
    return Status::Ok();
  }
  int err = errno;
  return Status::Configuration(
      "the directory " + dir.string() + " of the CA key of " + active.issuer_id +
      " generation " + std::to_string(active.generation) + " is not writable by user " +
      UserName(::geteuid()) + " (" + std::strerror(err) +
      "): each published CRL's number is recorded there (<issuer>-g<N>.crl-number), so "
      "no CRL could be regenerated; make it writable by this user (certctld.service: "
      "keep the CA in /var/lib/certctl/ca)");
}

Status RequireActiveKey(OpContext& ctx, const std::string& issuer,
                        const CaGenerationRecord& active) {
  auto signing = ctx.keyring.Get(active);
  if (!signing.ok()) {
    return signing.status().WithContext("the active CA generation " +
                                        std::to_string(active.generation) + " of " +
                                        issuer + " cannot sign");
  }
  return RequireWritableKeyDirectory(active);
}

}  // namespace

Status RequireConfiguredCaFiles(const Config& config) {
  if (!config.ca_cert_path.empty() && !config.ca_key_path.empty()) return Status::Ok();
  return Status::Configuration(
      "no CA configured for issuer iss-local: set CERTCTL_CA_CERT_PATH and "
      "CERTCTL_CA_KEY_PATH (or run `certctld --dev` for a local development CA)");
}

Result<CaRegistered> CheckConfiguredCa(OpContext& ctx, const std::string& issuer,
                                       const std::string& cert_path,
                                       const std::string& key_path, OpReport& report) {
  ASSIGN_OR_RETURN(ConfiguredCa configured, ReadConfiguredCa(cert_path, key_path));
  X509* cert = configured.ca.cert.get();
  CaRegistered result{issuer,        0, false, configured.fingerprint, SubjectOf(cert),
                      NotAfter(cert)};
  std::optional<CaGenerationRecord> active;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto match, MatchGeneration(ctx, tx, issuer, cert_path, configured));
    if (!match) return Status::Ok();
    result.configured_generation = match->generation;
    NoteMovedKey(*match, key_path, report);
    ASSIGN_OR_RETURN(active, IssuerRepo::ActiveGeneration(tx, issuer));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!active) {
    // A new issuer: start-up would register these files as generation 1.
    RETURN_IF_ERROR(ValidateCa(cert, configured.ca.key.get(), ctx.clock.Now())
                        .WithContext("refusing CA " + cert_path + " / " + key_path));
    result.registered = true;
    result.generation = result.configured_generation = 1;
    result.active_key_path = key_path;
    result.active_subject = result.subject;
    return result;
  }
  result.generation = active->generation;
  result.active_key_path = active->key_path;
  result.active_subject = active->subject;
  RETURN_IF_ERROR(RequireActiveKey(ctx, issuer, *active));
  return result;
}

Result<CaRegistered> RegisterConfiguredCa(OpContext& ctx, const std::string& issuer,
                                          const std::string& cert_path,
                                          const std::string& key_path, OpReport& report) {
  report.operation = "issuer.register";
  report.target = issuer;
  ASSIGN_OR_RETURN(ConfiguredCa configured, ReadConfiguredCa(cert_path, key_path));
  X509* cert = configured.ca.cert.get();
  CaRegistered result{issuer,        0, false, configured.fingerprint, SubjectOf(cert),
                      NotAfter(cert)};

  // Replicas starting together on a fresh database would both find no
  // generation and race to insert one: registration runs under the issuer's
  // CA lock, so the second waits and then finds the first one's row.
  auto lock = OperationLock::Acquire(
      ctx.db, CaLockName(issuer),
      ThisProcess(ctx.actor.program + " issuer.register (" + ctx.actor.name + ")"),
      std::max<std::chrono::milliseconds>(ctx.lock_wait, kRegistrationLockWait));
  if (!lock.ok()) return lock.status();
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));
  std::optional<CaGenerationRecord> active;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto match, MatchGeneration(ctx, tx, issuer, cert_path, configured));
    if (match) {
      result.configured_generation = match->generation;
      NoteMovedKey(*match, key_path, report);
      ASSIGN_OR_RETURN(active, IssuerRepo::ActiveGeneration(tx, issuer));
      return Status::Ok();
    }
    RETURN_IF_ERROR(ValidateCa(cert, configured.ca.key.get(), ctx.clock.Now())
                        .WithContext("refusing CA " + cert_path + " / " + key_path));
    ASSIGN_OR_RETURN(bool created, IssuerRepo::Ensure(tx, issuer, issuer));
    (void)created;
    CaGenerationRecord g;
    g.issuer_id = issuer;
    g.generation = 1;
    g.cert_pem = CertificateToPem(cert);
    g.cert_sha256 = configured.fingerprint;
    g.key_path = key_path;
    g.subject = SubjectOf(cert);
    g.not_before = NotBefore(cert);
    g.not_after = NotAfter(cert);
    RETURN_IF_ERROR(IssuerRepo::InsertGeneration(tx, g));
    AuditEvent e = ActorEvent(ctx, "issuer.register", issuer,
                              {{"generation", 1},
                               {"fingerprint", configured.fingerprint},
                               {"cert_path", cert_path}},
                              "registered CA " + g.subject + " as generation 1");
    RETURN_IF_ERROR(trail.Append(tx, e).status());
    result.registered = true;
    result.configured_generation = 1;
    active = std::move(g);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (result.registered) {
    trail.Committed(ctx);
    report.steps.push_back("registered " + issuer + " CA as generation 1");
  }
  result.generation = active->generation;
  result.active_key_path = active->key_path;
  result.active_subject = active->subject;
  ctx.keyring.Put(issuer, result.configured_generation, std::move(configured.ca));
  RETURN_IF_ERROR(RequireActiveKey(ctx, issuer, *active));
  return result;
}

Result<std::vector<std::string>> ListIssuerIds(OpContext& ctx) {
  auto issuers = ctx.db.Query<std::vector<IssuerRecord>>(
      [](Transaction& tx) { return IssuerRepo::List(tx); });
  if (!issuers.ok()) return issuers.status();
  std::vector<std::string> ids;
  for (const auto& i : *issuers) ids.push_back(i.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<IssuerWithGenerations>> ListIssuers(OpContext& ctx) {
  return ctx.db.Query<std::vector<IssuerWithGenerations>>(
      [](Transaction& tx) -> Result<std::vector<IssuerWithGenerations>> {
        ASSIGN_OR_RETURN(auto records, IssuerRepo::List(tx));
        std::vector<IssuerWithGenerations> out;
        for (auto& r : records) {
          ASSIGN_OR_RETURN(auto generations, IssuerRepo::Generations(tx, r.id));
          out.push_back({std::move(r), std::move(generations)});
        }
        return out;
      });
}

Result<CaCertificate> FindCaCertificate(Database& db, const std::string& issuer,
                                        std::optional<int> generation) {
  RETURN_IF_ERROR(ParseIssuerId(issuer).status());  // before it reaches a query
  auto found = db.Query<std::optional<CaGenerationRecord>>([&](Transaction& tx) {
    return generation ? IssuerRepo::FindGeneration(tx, issuer, *generation)
                      : IssuerRepo::ActiveGeneration(tx, issuer);
  });
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return Status::NotFound(generation ? "issuer " + issuer + " has no CA generation " +
                                             std::to_string(*generation)
                                       : "unknown issuer " + issuer);
  }
  const CaGenerationRecord& g = **found;
  ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(g.cert_pem));
  return CaCertificate{g.generation, CertificateToDer(cert.get()), g.cert_sha256};
}

}  // namespace certctl::ops
