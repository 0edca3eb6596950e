// DescribeCa: `ca status`, the CA generations of an issuer as an operator
// checks them. The CRL and responder parts are `crl status` and `ocsp
// status` (DescribeCrls, DescribeOcspResponder), whose findings it carries.
#include "certctl/ops/ca_status.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/serial.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/ca_rotation_state.h"
#include "store/ca_backup_repo.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

// A generation and what the database says about it.
struct GenerationRow {
  CaGenerationRecord record;
  CertificateRepo::UnexpiredCount unexpired;
  std::optional<CaBackupRow> backup;
};

struct IssuerRows {
  std::vector<GenerationRow> generations;
  std::optional<UnfinishedRotation> rotation;
};

Result<IssuerRows> ReadIssuer(OpContext& ctx, const std::string& issuer, TimePoint now) {
  IssuerRows rows;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    rows = IssuerRows{};
    ASSIGN_OR_RETURN(auto gens, IssuerRepo::Generations(tx, issuer));
    for (auto& g : gens) {
      GenerationRow row{std::move(g), {}, std::nullopt};
      const CaGenerationRecord& r = row.record;
      ASSIGN_OR_RETURN(row.unexpired,
                       CertificateRepo::CountUnexpired(tx, issuer, r.generation, now));
      ASSIGN_OR_RETURN(row.backup, CaBackupRepo::NewestHolding(tx, issuer, r.generation,
                                                               r.cert_sha256));
      rows.generations.push_back(std::move(row));
    }
    ASSIGN_OR_RETURN(rows.rotation, internal::FindUnfinishedRotation(tx, issuer));
    return Status::Ok();
  }));
  return rows;
}

std::string ModeText(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// The key file: there, its mode and owner, and whether it holds the
// certificate's key. Read directly (not LoadPrivateKeyFile) so that a key
// with a bad mode can still be compared.
CaKeyFile InspectKeyFile(const std::string& path, X509* cert) {
  CaKeyFile k;
  k.path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    k.problem = errno == ENOENT ? "the key file is missing"
                                : "stat: " + std::string(std::strerror(errno));
    return k;
  }
  k.exists = true;
  k.mode = static_cast<uint32_t>(st.st_mode & 07777);
  k.owner = UserName(st.st_uid);
  auto raw = ReadFile(path);
  auto key = raw.ok() ? ParsePrivateKeyPem(SecretString(std::move(raw).value()).view())
                      : Result<UniquePtr<EVP_PKEY>>(raw.status());
  if (!key.ok()) {
    k.problem = "cannot be read as a private key: " + key.status().message();
    return k;
  }
  k.algorithm = DescribeKey(key->get());
  k.matches_certificate = SamePublicKey(key->get(), X509_get0_pubkey(cert));
  if (!k.matches_certificate) {
    k.problem = "does not hold the key of the CA certificate";
  } else if ((*k.mode & 0077) != 0) {
    k.problem = "mode " + ModeText(*k.mode) + ": readable by others than its owner";
  }
  return k;
}

void KeyFindings(const CaKeyFile& k, const std::string& subject, OpReport& report) {
  std::string file = "CA key file " + k.path;
  if (!k.exists) {
    report.AddFinding("error", "ca.key_missing", subject, file + " is missing");
    return;
  }
  if (!k.algorithm) {
    report.AddFinding("error", "ca.key_unreadable", subject, file + " " + k.problem);
  } else if (!k.matches_certificate) {
    report.AddFinding("error", "ca.key_mismatch", subject,
                      file + " does not hold the key of the generation's certificate");
  }
  if (k.mode && (*k.mode & 0077) != 0) {
    report.AddFinding("error", "ca.key_mode", subject,
                      file + " has mode " + ModeText(*k.mode) +
                          "; it must be 0600 (chmod 0600; if others may have read it, "
                          "treat the key as compromised and rotate)");
  }
}

CaExpiry ExpiryOf(seconds left, const CaExpiryThresholds& t) {
  if (left <= seconds(0)) return CaExpiry::kExpired;
  if (left < t.critical) return CaExpiry::kCritical;
  if (left < t.warning) return CaExpiry::kWarning;
  return CaExpiry::kOk;
}

// Findings about the CA certificate's notAfter.
void ExpiryFindings(const CaGenerationStatus& g, const std::string& subject,
                    const CaExpiryThresholds& t, OpReport& report) {
  std::string when = "the CA certificate expires " + FormatRfc3339(g.not_after);
  bool active = g.state == GenerationState::kActive;
  if (g.expiry == CaExpiry::kExpired && (active || g.unexpired_certificates > 0)) {
    report.AddFinding("error", "ca.expired", subject,
                      "the CA certificate expired " + FormatRfc3339(g.not_after) +
                          (active ? "; rotate: `certctl-admin ca rotate`"
                                  : " while certificates it issued are still valid"));
  } else if (active && g.expiry == CaExpiry::kCritical) {
    report.AddFinding("error", "ca.expiring_critical", subject,
                      when + ": less than " + FormatDuration(t.critical) +
                          " left; rotate now (`certctl-admin ca rotate`)");
  } else if (active && g.expiry == CaExpiry::kWarning) {
    report.AddFinding(
        "warning", "ca.expiring", subject,
        when + ": less than " + FormatDuration(t.warning) + " left; plan the rotation");
  }
}

CaResponderState ResponderStateOf(const GenerationResponders& r, TimePoint now) {
  CaResponderState s;
  if (!r.responder) {
    s.verdict = "missing";
    return s;
  }
  const ResponderKeyFile& k = r.key_file;
  s.serial = r.responder->certificate.serial;
  s.not_after = r.responder->certificate.not_after;
  if (!r.responder->issued_by_generation) {
    s.verdict = "wrong_issuer";
  } else if (now >= *s.not_after) {
    s.verdict = "expired";
  } else if (!k.exists) {
    s.verdict = "key_missing";
  } else if (!k.algorithm) {
    s.verdict = "key_unreadable";
  } else if (!k.matches_certificate) {
    s.verdict = "key_mismatch";
  } else if (k.mode && (*k.mode & 0077) != 0) {
    s.verdict = "key_mode";
  } else {
    s.verdict = "ok";
  }
  return s;
}

CaCrlState CrlStateOf(const CrlGenerationStatus* crl) {
  if (!crl) return {"not_published", std::nullopt, std::nullopt};
  CaCrlState s{std::string(CrlVerdictName(crl->verdict)), std::nullopt, std::nullopt};
  if (crl->cache) {
    s.crl_number = crl->cache->crl_number;
    s.next_update = crl->cache->next_update;
  }
  return s;
}

// The `crl status` and `ocsp status` of the issuer, their findings carried over.
struct ServingState {
  CrlStatus crls;
  ResponderStatus responders;
};

Result<ServingState> DescribeServing(OpContext& ctx, const std::string& issuer,
                                     OpReport& report) {
  OpReport crl_report, ocsp_report;
  ASSIGN_OR_RETURN(CrlStatus crls, DescribeCrls(ctx, issuer, 0, crl_report));
  ASSIGN_OR_RETURN(ResponderStatus responders,
                   DescribeOcspResponder(ctx, issuer, ocsp_report));
  for (auto* sub : {&crl_report, &ocsp_report}) {
    for (auto& f : sub->findings) report.findings.push_back(std::move(f));
  }
  return ServingState{std::move(crls), std::move(responders)};
}

Result<CaGenerationStatus> DescribeGeneration(OpContext& ctx, const GenerationRow& row,
                                              const ServingState& serving,
                                              const CaExpiryThresholds& t,
                                              OpReport& report) {
  const CaGenerationRecord& r = row.record;
  std::string subject = GenerationLabel(r.issuer_id, r.generation);
  ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(r.cert_pem));
  ASSIGN_OR_RETURN(Serial serial, Serial::FromAsn1(X509_get0_serialNumber(cert.get())));
  TimePoint now = ctx.clock.Now();
  CaGenerationStatus g;
  g.generation = r.generation;
  g.state = r.state;
  g.subject = SubjectOf(cert.get());
  g.key_type = DescribeKey(X509_get0_pubkey(cert.get()));
  g.serial = serial.hex();
  g.fingerprint_sha256 = r.cert_sha256;
  g.not_before = r.not_before;
  g.not_after = r.not_after;
  g.time_left = duration_cast<seconds>(r.not_after - now);
  g.expiry = ExpiryOf(g.time_left, t);
  g.key_file = InspectKeyFile(r.key_path, cert.get());
  g.unexpired_certificates = row.unexpired.count;
  g.last_certificate_expiry = row.unexpired.last_not_after;
  bool signs = r.state == GenerationState::kActive || g.unexpired_certificates > 0;
  g.can_be_archived = !signs;
  g.responder.verdict = "missing";
  for (const auto& responders : serving.responders.generations) {
    if (responders.generation == r.generation)
      g.responder = ResponderStateOf(responders, now);
  }
  const CrlGenerationStatus* crl = nullptr;
  for (const auto& issuer : serving.crls.issuers) {
    for (const auto& c : issuer.generations) {
      if (c.generation == r.generation) crl = &c;
    }
  }
  g.crl = CrlStateOf(crl);
  if (row.backup) {
    g.backup = CaBackupRecord{row.backup->id, row.backup->directory,
                              row.backup->created_at, row.backup->created_by};
  }
  ExpiryFindings(g, subject, t, report);
  if (signs) {
    KeyFindings(g.key_file, subject, report);
    if (!g.backup) {
      report.AddFinding("warning", "ca.backup_missing", subject,
                        "no backup of this generation's key is recorded; take one with "
                        "`certctl-admin ca backup " +
                            r.issuer_id + " --to DIR`");
    }
  }
  return g;
}

Result<IssuerCaStatus> DescribeIssuer(OpContext& ctx, const std::string& issuer,
                                      const CaExpiryThresholds& t, OpReport& report) {
  ASSIGN_OR_RETURN(IssuerRows rows, ReadIssuer(ctx, issuer, ctx.clock.Now()));
  ASSIGN_OR_RETURN(ServingState serving, DescribeServing(ctx, issuer, report));
  IssuerCaStatus status{issuer, {}, rows.rotation};
  if (rows.rotation) {
    report.AddFinding("error", "ca.rotation_unfinished", issuer,
                      internal::DescribeUnfinishedRotation(issuer, *rows.rotation));
  }
  for (const auto& row : rows.generations) {
    ASSIGN_OR_RETURN(auto g, DescribeGeneration(ctx, row, serving, t, report));
    status.generations.push_back(std::move(g));
  }
  return status;
}

Status CheckThresholds(const CaExpiryThresholds& t) {
  if (t.warning <= seconds(0) || t.critical <= seconds(0)) {
    return Status::InvalidArgument("expiry thresholds must be positive");
  }
  if (t.critical > t.warning) {
    return Status::InvalidArgument(
        "the critical expiry threshold (" + FormatDuration(t.critical) +
        ") must not be longer than the warning one (" + FormatDuration(t.warning) + ")");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> IssuerIds(OpContext& ctx, const std::string& issuer) {
  return ctx.db.Query<std::vector<std::string>>(
      [&](Transaction& tx) -> Result<std::vector<std::string>> {
        if (!issuer.empty()) {
          ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
          if (!found) return Status::NotFound("unknown issuer " + issuer);
          return std::vector<std::string>{issuer};
        }
        ASSIGN_OR_RETURN(auto all, IssuerRepo::List(tx));
        std::vector<std::string> ids;
        for (const auto& i : all) ids.push_back(i.id);
        return ids;
      });
}

}  // namespace

std::string_view CaExpiryName(CaExpiry expiry) {
  switch (expiry) {
    case CaExpiry::kOk:
      return "ok";
    case CaExpiry::kWarning:
      return "warning";
    case CaExpiry::kCritical:
      return "critical";
    case CaExpiry::kExpired:
      return "expired";
  }
  return "unknown";
}

CaExpiryThresholds ExpiryThresholdsFrom(const Config& config) {
  return {config.ca_expiry_warning, config.ca_expiry_critical};
}

Result<CaStatus> DescribeCa(OpContext& ctx, const std::string& issuer,
                            const CaExpiryThresholds& thresholds, OpReport& report) {
  report.operation = "ca.status";
  report.target = issuer.empty() ? "*" : issuer;
  RETURN_IF_ERROR(CheckThresholds(thresholds));
  ASSIGN_OR_RETURN(auto ids, IssuerIds(ctx, issuer));
  CaStatus status{thresholds, {}};
  for (const auto& id : ids) {
    ASSIGN_OR_RETURN(auto s, DescribeIssuer(ctx, id, thresholds, report));
    status.issuers.push_back(std::move(s));
  }
  return status;
}

}  // namespace certctl::ops
