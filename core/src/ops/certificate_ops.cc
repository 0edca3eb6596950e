#include "certctl/ops/certificate_ops.h"

#include "certctl/pki/certificate.h"
#include "certctl/pki/csr.h"
#include "certctl/pki/name_checks.h"
#include "certctl/pki/serial.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/audit_trail.h"
#include "store/certificate_repo.h"
#include "store/invalidation.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

Status CheckProfile(const Csr& csr) {
  if (csr.common_name.empty() && csr.dns_names.empty() && csr.ip_addresses.empty() &&
      csr.email_addresses.empty()) {
    return Status::InvalidArgument("CSR has neither a common name nor a subjectAltName");
  }
  return Status::Ok();
}

// The fields of a generate_key request, checked before a key is made (an
// RSA-4096 key costs a second of CPU; a refused request costs nothing).
Status CheckGenerateKeyFields(const IssueParams& p, const Config& config) {
  if (!p.csr_pem.empty()) {
    return Status::InvalidArgument("give either a CSR or generate_key, not both");
  }
  if (p.common_name.empty()) {
    return Status::InvalidArgument("generate_key needs a common_name");
  }
  RETURN_IF_ERROR(CheckSubjectValue(NID_commonName, p.common_name));
  RETURN_IF_ERROR(CheckSanCount(p.dns_names.size(), config.certificate_max_sans));
  for (const auto& name : p.dns_names) RETURN_IF_ERROR(CheckDnsName(name));
  return Status::Ok();
}

// The reasons a new revocation may give; see RevokeCertificate's contract.
Status CheckNewRevocationReason(int code) {
  switch (code) {
    case 6:
      return Status::InvalidArgument(
          "revocation reason certificateHold is not accepted: a hold can be released, "
          "so the certificate would turn \"good\" again after being \"revoked\", "
          "which certctl never answers; certctl has no release, and the CA/Browser "
          "Forum Baseline Requirements forbid holds for TLS certificates");
    case 8:
      return Status::InvalidArgument(
          "revocation reason removeFromCRL is not accepted: RFC 5280 allows it only "
          "in a delta CRL, to take a held certificate off the list; certctl publishes "
          "complete CRLs, where it would make relying parties accept the certificate");
    case 10:
      return Status::InvalidArgument(
          "revocation reason aACompromise is not accepted: it is for attribute "
          "certificates (RFC 5280 §5.3.1), which certctl does not issue; use "
          "cACompromise or keyCompromise");
  }
  return Status::Ok();
}

std::string KeyUsageFor(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? "digitalSignature,keyEncipherment"
                                                   : "digitalSignature";
}

std::vector<std::string> SanList(const Csr& csr) {
  std::vector<std::string> out;
  for (const auto& d : csr.dns_names) out.push_back("DNS:" + d);
  for (const auto& i : csr.ip_addresses) out.push_back("IP:" + i);
  for (const auto& e : csr.email_addresses) out.push_back("email:" + e);
  return out;
}

}  // namespace

std::string CrlUrl(const Config& config, const std::string& issuer) {
  return config.base_url + "/.well-known/pki/crl/" + issuer;
}

std::string CrlUrl(const Config& config, const std::string& issuer, int generation) {
  return CrlUrl(config, issuer) + "/" + std::to_string(generation);
}

std::string OcspUrl(const Config& config, const std::string& issuer) {
  return config.base_url + "/.well-known/pki/ocsp/" + issuer;
}

std::string CaCertificateUrl(const Config& config, const std::string& issuer) {
  return config.base_url + "/.well-known/pki/ca/" + issuer;
}

std::string CaCertificateUrl(const Config& config, const std::string& issuer,
                             int generation) {
  return CaCertificateUrl(config, issuer) + "/" + std::to_string(generation);
}

Result<IssuedCertificate> IssueCertificate(OpContext& ctx, const IssueParams& p) {
  RETURN_IF_ERROR(ParseIssuerId(p.issuer).status());  // before it reaches a query
  IssuedCertificate out;
  std::string csr_pem = p.csr_pem;
  if (p.generate_key) {
    RETURN_IF_ERROR(CheckGenerateKeyFields(p, ctx.config));
    ASSIGN_OR_RETURN(auto key, GenerateKey(*p.generate_key));
    ASSIGN_OR_RETURN(csr_pem, MakeCsrPem(key.get(), p.common_name, p.dns_names));
    ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyToPem(key.get()));
  }
  if (csr_pem.empty()) return Status::InvalidArgument("a PEM CSR is required");
  ASSIGN_OR_RETURN(Csr csr,
                   ParseCsrPem(csr_pem, {.max_sans = ctx.config.certificate_max_sans}));
  RETURN_IF_ERROR(CheckProfile(csr));
  int days = p.validity_days.value_or(ctx.config.certificate_default_validity_days);
  if (days < 1 || days > ctx.config.certificate_max_validity_days) {
    return Status::InvalidArgument(
        "validity_days must be between 1 and " +
        std::to_string(ctx.config.certificate_max_validity_days));
  }
  // No audit key, no certificate: every issuance is on the record.
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));

  auto generation = ctx.db.Query<std::optional<CaGenerationRecord>>(
      [&](Transaction& tx) { return IssuerRepo::ActiveGeneration(tx, p.issuer); });
  if (!generation.ok()) return generation.status();
  if (!generation->has_value()) return Status::NotFound("unknown issuer " + p.issuer);
  const CaGenerationRecord& gen = **generation;
  ASSIGN_OR_RETURN(auto ca, ctx.keyring.Get(gen));

  TimePoint now = ctx.clock.Now();
  IssueRequest r;
  r.subject = csr.subject_name.get();
  r.public_key = csr.public_key();
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = std::min(now + std::chrono::hours(24) * days, gen.not_after);
  r.key_usage = KeyUsageFor(csr.public_key());
  r.extended_key_usage = "serverAuth,clientAuth";
  r.dns_names = csr.dns_names;
  r.ip_addresses = csr.ip_addresses;
  r.email_addresses = csr.email_addresses;
  r.crl_distribution_url = CrlUrl(ctx.config, p.issuer, gen.generation);
  r.ocsp_url = OcspUrl(ctx.config, p.issuer);
  r.ca_issuers_url = CaCertificateUrl(ctx.config, p.issuer, gen.generation);
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  ASSIGN_OR_RETURN(auto cert,
                   certctl::IssueCertificate(r, serial, ca->cert.get(), ca->key.get()));

  CertificateRecord rec;
  rec.issuer_id = p.issuer;
  rec.serial = serial.hex();
  rec.generation = gen.generation;
  rec.subject = SubjectOf(cert.get());
  rec.sans = SanList(csr);
  rec.not_before = r.not_before;
  rec.not_after = r.not_after;
  rec.cert_der = CertificateToDer(cert.get());
  rec.issued_by = ctx.actor.name;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    RETURN_IF_ERROR(CertificateRepo::Insert(tx, rec));
    AuditEvent e = ActorEvent(ctx, "certificate.issue", p.issuer + "/" + rec.serial,
                              {{"subject", rec.subject},
                               {"sans", rec.sans},
                               {"validity_days", days},
                               {"generation", gen.generation}},
                              "issued " + rec.subject);
    return trail.Append(tx, e).status();
  }));
  trail.Committed(ctx);

  out.issuer = p.issuer;
  out.generation = gen.generation;
  out.serial = rec.serial;
  out.certificate_pem = CertificateToPem(cert.get());
  out.chain_pem = gen.cert_pem + gen.chain_pem;  // a sub-CA's issuers follow it
  out.not_after = rec.not_after;
  return out;
}

Result<RevokeResult> RevokeCertificate(OpContext& ctx, const RevokeParams& p) {
  ASSIGN_OR_RETURN(Serial serial, Serial::Parse(p.serial));
  if (!p.issuer.empty()) RETURN_IF_ERROR(ParseIssuerId(p.issuer).status());
  ASSIGN_OR_RETURN(int reason, ParseRevocationReason(p.reason));
  RETURN_IF_ERROR(CheckNewRevocationReason(reason));
  ASSIGN_OR_RETURN(AuditTrail trail, AuditTrail::Open(ctx));
  RevokeResult out;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    std::optional<CertificateStatusRecord> found;
    if (p.issuer.empty()) {
      ASSIGN_OR_RETURN(auto all, CertificateRepo::FindBySerial(tx, serial.hex()));
      if (all.size() > 1) {
        return Status::InvalidArgument("serial " + serial.hex() +
                                       " exists under several "
                                       "issuers; name the issuer");
      }
      if (!all.empty()) found = std::move(all[0]);
    } else {
      ASSIGN_OR_RETURN(found, CertificateRepo::Find(tx, p.issuer, serial.hex()));
    }
    if (!found) return Status::NotFound("no certificate with serial " + serial.hex());
    const CertificateRecord& c = found->certificate;
    if (found->revocation) {
      return Status::AlreadyExists(
          "certificate " + c.serial + " was already revoked at " +
          FormatRfc3339(found->revocation->revoked_at) + " (" +
          std::string(RevocationReasonName(found->revocation->reason)) + ")");
    }
    out.revocation = {c.issuer_id, c.serial,        c.generation,
                      reason,      ctx.clock.Now(), ctx.actor.name};
    // Lock the issuer row first: a concurrent live OCSP signing compares this
    // epoch before writing its answer back, so it cannot cache a stale "good".
    ASSIGN_OR_RETURN(out.revocation_epoch,
                     IssuerRepo::BumpRevocationEpoch(tx, c.issuer_id));
    RETURN_IF_ERROR(RevocationRepo::Insert(tx, out.revocation));
    ASSIGN_OR_RETURN(out.ocsp_answers_dropped,
                     InvalidationRepo::DropOcspAnswers(tx, c.issuer_id, c.serial));
    RETURN_IF_ERROR(InvalidationRepo::Notify(tx, {"ocsp", c.issuer_id, c.serial}));
    RETURN_IF_ERROR(InvalidationRepo::Notify(tx, {"crl", c.issuer_id, ""}));
    AuditEvent e = ActorEvent(ctx, "certificate.revoke", c.issuer_id + "/" + c.serial,
                              {{"reason", std::string(RevocationReasonName(reason))},
                               {"generation", c.generation}},
                              "revoked " + c.subject);
    return trail.Append(tx, e).status();
  });
  if (!s.ok()) return s;
  trail.Committed(ctx);
  return out;
}

Result<std::vector<CertificateStatusRecord>> FindCertificates(OpContext& ctx,
                                                              const std::string& serial,
                                                              const std::string& issuer) {
  ASSIGN_OR_RETURN(Serial parsed, Serial::Parse(serial));
  if (!issuer.empty()) RETURN_IF_ERROR(ParseIssuerId(issuer).status());
  return ctx.db.Query<std::vector<CertificateStatusRecord>>(
      [&](Transaction& tx) -> Result<std::vector<CertificateStatusRecord>> {
        if (issuer.empty()) return CertificateRepo::FindBySerial(tx, parsed.hex());
        ASSIGN_OR_RETURN(auto one, CertificateRepo::Find(tx, issuer, parsed.hex()));
        std::vector<CertificateStatusRecord> out;
        if (one) out.push_back(std::move(*one));
        return out;
      });
}

Result<CertificatePage> ListCertificates(OpContext& ctx,
                                         const CertificateListFilter& filter) {
  if (!filter.issuer.empty()) RETURN_IF_ERROR(ParseIssuerId(filter.issuer).status());
  if (filter.limit < 1 || filter.limit > 1000) {
    return Status::InvalidArgument("limit must be 1..1000, not " +
                                   std::to_string(filter.limit));
  }
  TimePoint now = ctx.clock.Now();
  return ctx.db.Query<CertificatePage>(
      [&](Transaction& tx) { return CertificateRepo::List(tx, filter, now); });
}

}  // namespace certctl::ops
