#include "certctl/ops/issuer_ops.h"

#include <algorithm>

#include "certctl/pki/certificate.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/audit_trail.h"
#include "store/issuer_repo.h"
#include "store/operation_lock.h"

namespace certctl::ops {
namespace {

// How long a starting process waits for another one registering the CA.
constexpr std::chrono::seconds kRegistrationLockWait{30};

}  // namespace

Result<CaRegistered> RegisterConfiguredCa(OpContext& ctx, const std::string& issuer,
                                          const std::string& cert_path,
                                          const std::string& key_path, OpReport& report) {
  report.operation = "issuer.register";
  report.target = issuer;
  ASSIGN_OR_RETURN(CaMaterial ca, LoadCa(cert_path, key_path, ctx.clock.Now()));
  std::string fingerprint = FingerprintSha256(ca.cert.get());
  CaRegistered result{
      issuer, 0, false, fingerprint, SubjectOf(ca.cert.get()), NotAfter(ca.cert.get())};

  // Replicas starting together on a fresh database would both find no
  // generation and race to insert one: registration runs under the issuer's
  // CA lock, so the second waits and then finds the first one's row.
  auto lock = OperationLock::Acquire(
      ctx.db, CaLockName(issuer),
      ThisProcess(ctx.actor.program + " issuer.register (" + ctx.actor.name + ")"),
      std::max<std::chrono::milliseconds>(ctx.lock_wait, kRegistrationLockWait));
  if (!lock.ok()) return lock.status();
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));
  int& generation = result.generation;
  bool& registered = result.registered;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto active, IssuerRepo::ActiveGeneration(tx, issuer));
    if (active) {
      generation = active->generation;
      if (active->cert_sha256 == fingerprint) return Status::Ok();
      return Status::FailedPrecondition(
          "the CA certificate in " + cert_path + " (sha256 " + fingerprint.substr(0, 16) +
          "...) is not the active CA generation " + std::to_string(active->generation) +
          " of " + issuer + " (sha256 " + active->cert_sha256.substr(0, 16) +
          "...). Were the CA files replaced by hand? Put the original files back: "
          "certctl "
          "must keep signing CRLs and OCSP answers for what generation " +
          std::to_string(active->generation) +
          " issued. A new CA has to be registered as a new generation with "
          "`certctl-admin "
          "ca rotate " +
          issuer + "`, which this version does not have yet");
    }
    ASSIGN_OR_RETURN(auto generations, IssuerRepo::Generations(tx, issuer));
    if (!generations.empty()) {
      return Status::FailedPrecondition(
          "issuer " + issuer +
          " has generations but none is active; reactivating one "
          "needs `certctl-admin ca rotate " +
          issuer +
          "`, which this version does not "
          "have yet");
    }
    ASSIGN_OR_RETURN(bool created, IssuerRepo::Ensure(tx, issuer, issuer));
    (void)created;
    CaGenerationRecord g;
    g.issuer_id = issuer;
    g.generation = generation = 1;
    g.cert_pem = CertificateToPem(ca.cert.get());
    g.cert_sha256 = fingerprint;
    g.key_path = key_path;
    g.subject = SubjectOf(ca.cert.get());
    g.not_before = NotBefore(ca.cert.get());
    g.not_after = NotAfter(ca.cert.get());
    RETURN_IF_ERROR(IssuerRepo::InsertGeneration(tx, g));
    AuditEvent e = ActorEvent(
        ctx, "issuer.register", issuer,
        {{"generation", 1}, {"fingerprint", fingerprint}, {"cert_path", cert_path}},
        "registered CA " + g.subject + " as generation 1");
    RETURN_IF_ERROR(trail.Append(tx, e).status());
    registered = true;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  trail.Committed(ctx);
  if (registered) {
    report.steps.push_back("registered " + issuer + " CA as generation 1");
  }
  ctx.keyring.Put(issuer, generation, std::move(ca));
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
