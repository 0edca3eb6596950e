// The operator's OCSP checks: `ocsp status` (the responder certificate and
// its key file) and `ocsp check` (an answer against the database).
#include <pwd.h>
#include <sys/stat.h>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/store/certificate_repo.h"
#include "certctl/store/issuer_repo.h"
#include "certctl/store/ocsp_repo.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_engine.h"
#include "ops/responder_keys.h"

namespace certctl::ops {
namespace {

constexpr int kHistoryShown = 10;

std::string ModeString(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string OwnerName(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[1024];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found)
    return found->pw_name;
  return "uid:" + std::to_string(uid);
}

nlohmann::json OptionalTime(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json();
}

// The key file as `ocsp status` shows it, with findings for the active generation.
nlohmann::json DescribeKeyFile(const std::string& path, X509* cert,
                               const std::string& subject, bool findings,
                               OpReport& report) {
  nlohmann::json k = {{"path", path},
                      {"exists", false},
                      {"mode", nullptr},
                      {"owner", nullptr},
                      {"matches_certificate", false}};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (findings) {
      report.AddFinding("error", "ocsp.key_missing", subject,
                        "responder key file " + path + " is missing");
    }
    return k;
  }
  k["exists"] = true;
  k["mode"] = ModeString(st.st_mode);
  k["owner"] = OwnerName(st.st_uid);
  if (findings && (st.st_mode & 0077) != 0) {
    report.AddFinding(
        "error", "ocsp.key_mode", subject,
        "responder key file " + path + " has mode " + ModeString(st.st_mode) +
            "; it must be 0600 (chmod 0600, or reset the responder if others "
            "may have read it)");
  }
  // Read directly rather than with LoadPrivateKeyFile so that a key with a bad
  // mode can still be compared with the certificate.
  auto raw = ReadFile(path);
  auto key = raw.ok() ? ParsePrivateKeyPem(SecretString(std::move(raw).value()).view())
                      : Result<UniquePtr<EVP_PKEY>>(raw.status());
  if (!key.ok()) {
    if (findings) {
      report.AddFinding(
          "error", "ocsp.key_unreadable", subject,
          "responder key file " + path + " cannot be read: " + key.status().message());
    }
    return k;
  }
  k["algorithm"] = DescribeKey(key->get());
  bool matches = cert && SamePublicKey(key->get(), X509_get0_pubkey(cert));
  k["matches_certificate"] = matches;
  if (findings && cert && !matches) {
    report.AddFinding("error", "ocsp.key_mismatch", subject,
                      "responder key file " + path +
                          " does not match the responder "
                          "certificate");
  }
  return k;
}

nlohmann::json DescribeCertificate(OpContext& ctx, const OcspResponderRecord& row,
                                   X509* cert, X509* ca_cert, const std::string& subject,
                                   bool findings, OpReport& report) {
  nlohmann::json j = internal::ResponderJson(row);
  ResponderProfile profile = InspectResponderProfile(cert);
  bool issued = SignedBy(cert, ca_cert);
  j["ocsp_signing"] = profile.ocsp_signing;
  j["ocsp_nocheck"] = profile.ocsp_nocheck;
  j["digital_signature"] = profile.digital_signature;
  j["issued_by_generation"] = issued;
  j["key_algorithm"] = DescribeKey(X509_get0_pubkey(cert));
  if (!findings) return j;
  TimePoint now = ctx.clock.Now();
  if (!issued) {
    report.AddFinding("error", "ocsp.wrong_issuer", subject,
                      "responder certificate " + row.serial_number +
                          " was not issued by " + "the CA of " + subject);
  }
  if (!profile.complete()) {
    report.AddFinding("error", "ocsp.profile", subject,
                      "responder certificate " + row.serial_number +
                          " lacks OCSPSigning, ocsp-nocheck or digitalSignature");
  }
  if (now >= row.not_after) {
    report.AddFinding("error", "ocsp.responder_expired", subject,
                      "responder certificate expired at " + FormatRfc3339(row.not_after));
  } else if (now >= row.not_after - ctx.config.ocsp_responder_renew_before) {
    report.AddFinding("warning", "ocsp.responder_expiring", subject,
                      "responder certificate expires at " + FormatRfc3339(row.not_after) +
                          ": less than " +
                          FormatDuration(ctx.config.ocsp_responder_renew_before) +
                          " left, the rotation did not fire");
  }
  return j;
}

struct GenerationView {
  CaGenerationRecord generation;
  std::optional<OcspResponderRecord> row;
  std::vector<OcspResponderHistoryRecord> history;
};

nlohmann::json HistoryJson(const std::vector<OcspResponderHistoryRecord>& history) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : history) {
    out.push_back({{"serial", h.responder.serial_number},
                   {"subject", h.responder.cert_subject},
                   {"not_before", FormatRfc3339(h.responder.not_before)},
                   {"not_after", FormatRfc3339(h.responder.not_after)},
                   {"created_at", FormatRfc3339(h.responder.created_at)},
                   {"replaced_at", OptionalTime(h.replaced_at)},
                   {"reason", h.replaced_reason}});
  }
  return out;
}

nlohmann::json RevocationJson(const std::string& status, int reason,
                              std::optional<TimePoint> revoked_at) {
  return {{"status", status},
          {"reason", status == "revoked" && reason >= 0
                         ? nlohmann::json(std::string(RevocationReasonName(reason)))
                         : nlohmann::json()},
          {"revoked_at", OptionalTime(revoked_at)}};
}

}  // namespace

Status DescribeOcspResponder(OpContext& ctx, const std::string& issuer,
                             OpReport& report) {
  report.operation = "ocsp.status";
  report.target = issuer;
  std::vector<GenerationView> views;
  Status s = ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("unknown issuer " + issuer);
    ASSIGN_OR_RETURN(auto gens, IssuerRepo::Generations(tx, issuer));
    for (auto& g : gens) {
      GenerationView v{std::move(g), std::nullopt, {}};
      ASSIGN_OR_RETURN(v.row,
                       OcspResponderRepo::Find(tx, issuer, v.generation.generation));
      ASSIGN_OR_RETURN(
          v.history,
          OcspResponderRepo::History(tx, issuer, v.generation.generation, kHistoryShown));
      views.push_back(std::move(v));
    }
    return Status::Ok();
  });
  if (!s.ok()) return report.status = s;
  report.data = {{"issuer", issuer}, {"generations", nlohmann::json::array()}};
  for (const auto& v : views) {
    bool active = v.generation.state == GenerationState::kActive;
    std::string subject = issuer + "/g" + std::to_string(v.generation.generation);
    nlohmann::json g = {{"generation", v.generation.generation},
                        {"state", active ? "active" : "retired"},
                        {"responder", nullptr},
                        {"history", HistoryJson(v.history)}};
    auto ca = ParseCertificatePem(v.generation.cert_pem);
    if (!ca.ok())
      return report.status = ca.status().WithContext("CA certificate of " + subject);
    UniquePtr<X509> cert;
    if (v.row) {
      auto parsed = ParseCertificatePem(v.row->cert_pem);
      if (parsed.ok()) {
        cert = std::move(parsed).value();
        g["responder"] = DescribeCertificate(ctx, *v.row, cert.get(), ca->get(), subject,
                                             active, report);
      } else if (active) {
        report.AddFinding("error", "ocsp.profile", subject,
                          "stored responder certificate does not parse");
      }
    } else if (active) {
      report.AddFinding(
          "error", "ocsp.responder_missing", subject,
          "no responder certificate; the next OCSP request bootstraps one, or "
          "run `certctl-admin ocsp reset-responder " +
              issuer + "`");
    }
    std::string path = v.row ? v.row->key_path
                             : internal::ResponderKeyPattern(ctx.config, issuer,
                                                             v.generation.generation);
    g["key_file"] = DescribeKeyFile(path, cert.get(), subject, active && v.row, report);
    report.data["generations"].push_back(g);
  }
  return report.status = Status::Ok();
}

Result<std::string> MakeOcspRequest(OpContext& ctx, const std::string& issuer,
                                    const std::string& serial,
                                    std::optional<int> generation) {
  ASSIGN_OR_RETURN(Serial parsed, Serial::Parse(serial));
  auto gen = ctx.db.Query<std::optional<CaGenerationRecord>>(
      [&](Transaction& tx) -> Result<std::optional<CaGenerationRecord>> {
        if (generation) return IssuerRepo::FindGeneration(tx, issuer, *generation);
        return IssuerRepo::ActiveGeneration(tx, issuer);
      });
  if (!gen.ok()) return gen.status();
  if (!gen->has_value()) {
    return Status::NotFound(generation ? "issuer " + issuer + " has no CA generation " +
                                             std::to_string(*generation)
                                       : "unknown issuer " + issuer);
  }
  ASSIGN_OR_RETURN(auto ca, ParseCertificatePem((*gen)->cert_pem));
  return MakeOcspRequestDer(ca.get(), {parsed});
}

Status CheckOcspAnswer(OpContext& ctx, const std::string& issuer,
                       const std::string& serial, const OcspFetcher& fetcher,
                       OpReport& report) {
  report.operation = "ocsp.check";
  report.target = issuer + "/" + serial;
  auto parsed_serial = Serial::Parse(serial);
  if (!parsed_serial.ok()) return report.status = parsed_serial.status();
  const std::string hex = parsed_serial->hex();
  report.target = issuer + "/" + hex;

  // What the database says, and which generation's CertID to ask with.
  std::optional<CertificateStatusRecord> cert;
  std::optional<CaGenerationRecord> gen;
  Status read = ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("unknown issuer " + issuer);
    ASSIGN_OR_RETURN(cert, CertificateRepo::Find(tx, issuer, hex));
    if (cert) {
      ASSIGN_OR_RETURN(
          gen, IssuerRepo::FindGeneration(tx, issuer, cert->certificate.generation));
    } else {
      ASSIGN_OR_RETURN(gen, IssuerRepo::ActiveGeneration(tx, issuer));
    }
    if (!gen) return Status::NotFound("issuer " + issuer + " has no CA generation");
    return Status::Ok();
  });
  if (!read.ok()) return report.status = read;
  std::string db_status = !cert ? "unknown" : cert->revocation ? "revoked" : "good";
  report.data = {{"issuer", issuer}, {"serial", hex}, {"responder", nullptr}};
  report.data["database"] = RevocationJson(
      db_status, cert && cert->revocation ? cert->revocation->reason : -1,
      cert && cert->revocation ? std::optional(cert->revocation->revoked_at)
                               : std::nullopt);

  auto ca = ParseCertificatePem(gen->cert_pem);
  if (!ca.ok()) return report.status = ca.status();
  auto request_der = MakeOcspRequestDer(ca->get(), {*parsed_serial});
  if (!request_der.ok()) return report.status = request_der.status();
  std::string source = "fetcher";
  Result<std::string> response_der = Status::Internal("no answer");
  if (fetcher) {
    response_der = fetcher(*request_der);
  } else {
    auto request = ParseOcspRequest(*request_der);
    if (!request.ok()) return report.status = request.status();
    internal::OcspEngine engine(ctx);
    internal::EngineOptions options;
    options.verify_cached_status = false;
    options.write_back = false;
    auto answer = engine.Answer(issuer, *request, options);
    if (!answer.ok()) return report.status = answer.status();
    source = answer->cache_hit ? "cache" : "live";
    response_der = answer->der;
  }
  if (!response_der.ok()) return report.status = response_der.status();
  report.steps.push_back("asked about " + hex + " with a SHA-1 CertID of CA generation " +
                         std::to_string(gen->generation) + " (answer from " + source +
                         ")");

  auto response = ParseOcspResponse(*response_der);
  if (!response.ok()) {
    report.AddFinding(
        "error", "ocsp.unverifiable", report.target,
        "the answer is not an OCSP response: " + response.status().message());
    return report.status = Status::Ok();
  }
  if (response->response_status != 0) {
    report.AddFinding("error", "ocsp.error_response", report.target,
                      std::string("the responder answered ") +
                          OCSP_response_status_str(response->response_status));
    return report.status = Status::Ok();
  }
  Status verified = VerifyOcspResponse(*response, ca->get());
  if (!verified.ok()) {
    report.AddFinding("error", "ocsp.unverifiable", report.target, verified.message());
  }
  auto request = ParseOcspRequest(*request_der);
  const OcspSingleStatus* single = nullptr;
  for (const auto& s : response->singles) {
    if (request.ok() && s.cert_id_der == request->ids[0].der) single = &s;
  }
  if (!single) {
    report.AddFinding("error", "ocsp.no_answer", report.target,
                      "the response has no answer for the CertID asked");
    return report.status = Status::Ok();
  }
  std::string answered(OcspCertStatusName(single->status));
  nlohmann::json r = RevocationJson(answered, single->reason, single->revoked_at);
  r["this_update"] = FormatRfc3339(single->this_update);
  r["next_update"] = OptionalTime(single->next_update);
  r["produced_at"] = FormatRfc3339(response->produced_at);
  r["responder"] = response->signer ? SubjectOf(response->signer) : "";
  r["responder_serial"] = "";
  if (response->signer) {
    auto s = Serial::FromAsn1(X509_get0_serialNumber(response->signer));
    if (s.ok()) r["responder_serial"] = s->hex();
  }
  r["source"] = source;
  report.data["responder"] = r;
  if (answered != db_status) {
    report.AddFinding(
        "error", "ocsp.disagreement", report.target,
        "the responder says " + answered + " but the database says " + db_status +
            (source == "cache" ? " (the answer comes from ocsp_response_cache: "
                                 "`certctl-admin cache truncate --ocsp --issuer " +
                                     issuer + " --serial " + hex + "` removes it)"
                               : ""));
  }
  if (single->next_update && ctx.clock.Now() >= *single->next_update) {
    report.AddFinding("error", "ocsp.expired", report.target,
                      "the answer expired at " + FormatRfc3339(*single->next_update));
  }
  return report.status = Status::Ok();
}

}  // namespace certctl::ops
