// The operator's OCSP checks: `ocsp status` (the responder certificate and
// its key file) and `ocsp check` (an answer against the database).
#include <sys/stat.h>

#include <cstdio>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/files.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_engine.h"
#include "ops/responder_keys.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"
#include "store/ocsp_repo.h"

namespace certctl::ops {
namespace {

constexpr int kHistoryShown = 10;

// The key file as `ocsp status` shows it, with findings for the active generation.
ResponderKeyFile DescribeKeyFile(const std::string& path, X509* cert,
                                 const std::string& subject, bool findings,
                                 OpReport& report) {
  ResponderKeyFile k;
  k.path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (findings) {
      report.AddFinding("error", "ocsp.key_missing", subject,
                        "responder key file " + path + " is missing");
    }
    return k;
  }
  k.exists = true;
  k.mode = static_cast<uint32_t>(st.st_mode & 07777);
  k.owner = UserName(st.st_uid);
  if (findings && (st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(*k.mode));
    report.AddFinding("error", "ocsp.key_mode", subject,
                      "responder key file " + path + " has mode " + mode +
                          "; it must be 0600 (chmod 0600, or reset the responder if "
                          "others may have read it)");
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
  k.algorithm = DescribeKey(key->get());
  k.matches_certificate = cert && SamePublicKey(key->get(), X509_get0_pubkey(cert));
  if (findings && cert && !k.matches_certificate) {
    report.AddFinding("error", "ocsp.key_mismatch", subject,
                      "responder key file " + path +
                          " does not match the responder "
                          "certificate");
  }
  return k;
}

InspectedResponder DescribeCertificate(OpContext& ctx, const OcspResponderRecord& row,
                                       X509* cert, X509* ca_cert,
                                       const std::string& subject, bool findings,
                                       OpReport& report) {
  ResponderProfile profile = InspectResponderProfile(cert);
  InspectedResponder r{internal::CertificateOf(row), profile.ocsp_signing,
                       profile.ocsp_nocheck,         profile.digital_signature,
                       SignedBy(cert, ca_cert),      DescribeKey(X509_get0_pubkey(cert))};
  if (!findings) return r;
  TimePoint now = ctx.clock.Now();
  if (!r.issued_by_generation) {
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
  return r;
}

struct GenerationView {
  CaGenerationRecord generation;
  std::optional<OcspResponderRecord> row;
  std::vector<OcspResponderHistoryRecord> history;
};

std::vector<ReplacedResponder> History(
    const std::vector<OcspResponderHistoryRecord>& history) {
  std::vector<ReplacedResponder> out;
  for (const auto& h : history) {
    out.push_back(
        {internal::CertificateOf(h.responder), h.replaced_at, h.replaced_reason});
  }
  return out;
}

// The database's or an answer's status of a certificate; `reason` the RFC
// 5280 code (-1 none).
CertificateStatus StatusOf(OcspCertStatus status, int reason,
                           std::optional<TimePoint> revoked_at) {
  CertificateStatus s{status, std::nullopt, revoked_at};
  if (status == OcspCertStatus::kRevoked && reason >= 0) {
    s.reason = std::string(RevocationReasonName(reason));
  }
  return s;
}

}  // namespace

Result<ResponderStatus> DescribeOcspResponder(OpContext& ctx, const std::string& issuer,
                                              OpReport& report) {
  report.operation = "ocsp.status";
  report.target = issuer;
  std::vector<GenerationView> views;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
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
  }));
  ResponderStatus result{issuer, {}};
  for (const auto& v : views) {
    bool active = v.generation.state == GenerationState::kActive;
    std::string subject = GenerationLabel(issuer, v.generation.generation);
    GenerationResponders g;
    g.generation = v.generation.generation;
    g.state = v.generation.state;
    g.history = History(v.history);
    auto ca = ParseCertificatePem(v.generation.cert_pem);
    if (!ca.ok()) return ca.status().WithContext("CA certificate of " + subject);
    UniquePtr<X509> cert;
    if (v.row) {
      auto parsed = ParseCertificatePem(v.row->cert_pem);
      if (parsed.ok()) {
        cert = std::move(parsed).value();
        g.responder = DescribeCertificate(ctx, *v.row, cert.get(), ca->get(), subject,
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
    g.key_file = DescribeKeyFile(path, cert.get(), subject, active && v.row, report);
    result.generations.push_back(std::move(g));
  }
  return result;
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

std::string_view OcspAnswerSourceName(OcspAnswerSource source) {
  switch (source) {
    case OcspAnswerSource::kCache:
      return "cache";
    case OcspAnswerSource::kLive:
      return "live";
    case OcspAnswerSource::kFetcher:
      return "fetcher";
  }
  return "unknown";
}

namespace {

// The answer for `request_der`: from the fetcher, or this process's own
// answering path (cache as any replica would serve it, else signed live).
Result<std::string> Ask(OpContext& ctx, const std::string& issuer,
                        const std::string& request_der, const OcspFetcher& fetcher,
                        OcspAnswerSource& source) {
  if (fetcher) {
    source = OcspAnswerSource::kFetcher;
    return fetcher(request_der);
  }
  ASSIGN_OR_RETURN(auto request, ParseOcspRequest(request_der));
  internal::OcspEngine engine(ctx);
  internal::EngineOptions options;
  options.verify_cached_status = false;
  options.write_back = false;
  ASSIGN_OR_RETURN(auto response, engine.Respond(issuer, request, options));
  source = response.cache_hit ? OcspAnswerSource::kCache : OcspAnswerSource::kLive;
  return std::move(response.der);
}

// What the response says about the CertID of `request_der`, with findings
// for what is wrong with it; unset when it has no usable answer.
std::optional<OcspAnswerSeen> ReadAnswer(const std::string& response_der,
                                         const std::string& request_der, X509* ca,
                                         OcspAnswerSource source,
                                         const std::string& subject, OpReport& report) {
  auto response = ParseOcspResponse(response_der);
  if (!response.ok()) {
    report.AddFinding(
        "error", "ocsp.unverifiable", subject,
        "the answer is not an OCSP response: " + response.status().message());
    return std::nullopt;
  }
  if (response->response_status != 0) {
    report.AddFinding("error", "ocsp.error_response", subject,
                      std::string("the responder answered ") +
                          OCSP_response_status_str(response->response_status));
    return std::nullopt;
  }
  Status verified = VerifyOcspResponse(*response, ca);
  if (!verified.ok()) {
    report.AddFinding("error", "ocsp.unverifiable", subject, verified.message());
  }
  auto request = ParseOcspRequest(request_der);
  const OcspSingleStatus* single = nullptr;
  for (const auto& s : response->singles) {
    if (request.ok() && s.cert_id_der == request->ids[0].der) single = &s;
  }
  if (!single) {
    report.AddFinding("error", "ocsp.no_answer", subject,
                      "the response has no answer for the CertID asked");
    return std::nullopt;
  }
  OcspAnswerSeen seen;
  seen.certificate = StatusOf(single->status, single->reason, single->revoked_at);
  seen.this_update = single->this_update;
  seen.next_update = single->next_update;
  seen.produced_at = response->produced_at;
  seen.source = source;
  if (response->signer) {
    seen.responder = SubjectOf(response->signer);
    auto serial = Serial::FromAsn1(X509_get0_serialNumber(response->signer));
    if (serial.ok()) seen.responder_serial = serial->hex();
  }
  return seen;
}

}  // namespace

Result<OcspAnswerCheck> CheckOcspAnswer(OpContext& ctx, const std::string& issuer,
                                        const std::string& serial,
                                        const OcspFetcher& fetcher, OpReport& report) {
  report.operation = "ocsp.check";
  report.target = issuer + "/" + serial;
  ASSIGN_OR_RETURN(Serial parsed_serial, Serial::Parse(serial));
  const std::string hex = parsed_serial.hex();
  report.target = issuer + "/" + hex;

  // What the database says, and which generation's CertID to ask with.
  std::optional<CertificateStatusRecord> cert;
  std::optional<CaGenerationRecord> gen;
  RETURN_IF_ERROR(ctx.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("unknown issuer " + issuer);
    ASSIGN_OR_RETURN(auto asked, internal::FindSerialAndGeneration(tx, issuer, hex));
    cert = std::move(asked.certificate);
    gen = std::move(asked.generation);
    if (!gen) return Status::NotFound("issuer " + issuer + " has no CA generation");
    return Status::Ok();
  }));
  OcspAnswerCheck result;
  result.issuer = issuer;
  result.serial = hex;
  const auto& revocation = cert ? cert->revocation : std::nullopt;
  result.database =
      StatusOf(!cert        ? OcspCertStatus::kUnknown
               : revocation ? OcspCertStatus::kRevoked
                            : OcspCertStatus::kGood,
               revocation ? revocation->reason : -1,
               revocation ? std::optional(revocation->revoked_at) : std::nullopt);

  ASSIGN_OR_RETURN(auto ca, ParseCertificatePem(gen->cert_pem));
  ASSIGN_OR_RETURN(std::string request_der,
                   MakeOcspRequestDer(ca.get(), {parsed_serial}));
  OcspAnswerSource source = OcspAnswerSource::kFetcher;
  ASSIGN_OR_RETURN(std::string response_der,
                   Ask(ctx, issuer, request_der, fetcher, source));
  report.steps.push_back("asked about " + hex + " with a SHA-1 CertID of CA generation " +
                         std::to_string(gen->generation) + " (answer from " +
                         std::string(OcspAnswerSourceName(source)) + ")");
  result.responder =
      ReadAnswer(response_der, request_der, ca.get(), source, report.target, report);
  if (!result.responder) return result;
  const OcspAnswerSeen& seen = *result.responder;
  if (seen.certificate.status != result.database.status) {
    std::string answered(OcspCertStatusName(seen.certificate.status));
    std::string db_status(OcspCertStatusName(result.database.status));
    report.AddFinding("error", "ocsp.disagreement", report.target,
                      "the responder says " + answered + " but the database says " +
                          db_status +
                          (source == OcspAnswerSource::kCache
                               ? " (the answer comes from ocsp_response_cache: "
                                 "`certctl-admin cache truncate --ocsp --issuer " +
                                     issuer + " --serial " + hex + "` removes it)"
                               : ""));
  }
  if (seen.next_update && ctx.clock.Now() >= *seen.next_update) {
    report.AddFinding("error", "ocsp.expired", report.target,
                      "the answer expired at " + FormatRfc3339(*seen.next_update));
  }
  return result;
}

}  // namespace certctl::ops
