// Issuing, reading, listing and revoking certificates.
#include "certctl/ops/certificate_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/serial.h"
#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "daemon/handlers/common.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {
namespace {

using nlohmann::json;

Result<ops::IssueParams> IssueParamsFrom(const json& body) {
  RETURN_IF_ERROR(OnlyFields(body, {"csr", "issuer", "validity_days", "generate_key",
                                    "common_name", "dns_names"}));
  ops::IssueParams p;
  ASSIGN_OR_RETURN(auto csr, StringField(body, "csr"));
  ASSIGN_OR_RETURN(auto issuer, StringField(body, "issuer"));
  ASSIGN_OR_RETURN(p.validity_days, IntField(body, "validity_days"));
  if (issuer) p.issuer = *issuer;
  if (csr) p.csr_pem = *csr;
  auto gen = body.find("generate_key");
  if (gen != body.end() && !gen->is_null() && !(gen->is_boolean() && !gen->get<bool>())) {
    if (gen->is_boolean()) {
      p.generate_key = KeyAlgorithm::kEcdsaP256;
    } else if (gen->is_string()) {
      ASSIGN_OR_RETURN(p.generate_key, ParseKeyAlgorithm(gen->get<std::string>()));
    } else {
      return Status::InvalidArgument("generate_key must be true or a key algorithm name");
    }
    ASSIGN_OR_RETURN(auto cn, StringField(body, "common_name"));
    if (cn) p.common_name = *cn;
    auto names = body.find("dns_names");
    if (names != body.end() && !names->is_null()) {
      if (!names->is_array())
        return Status::InvalidArgument("dns_names must be a list of strings");
      for (const auto& n : *names) {
        if (!n.is_string())
          return Status::InvalidArgument("dns_names must be a list of strings");
        p.dns_names.push_back(n.get<std::string>());
      }
    }
  } else if (body.contains("common_name") || body.contains("dns_names")) {
    return Status::InvalidArgument(
        "common_name and dns_names go with generate_key; a CSR "
        "carries its own names");
  }
  if (p.csr_pem.empty() && !p.generate_key) {
    return Status::InvalidArgument("give \"csr\" (a PEM certificate signing request)");
  }
  return p;
}

std::string StatusName(const CertificateStatusRecord& r, TimePoint now) {
  if (r.revocation) return "revoked";
  return r.certificate.not_after < now ? "expired" : "active";
}

json RevocationJson(const RevocationRecord& r) {
  return {{"reason", std::string(RevocationReasonName(r.reason))},
          {"revoked_at", FormatRfc3339(r.revoked_at)},
          {"revoked_by", r.revoked_by}};
}

json CertificateJson(const CertificateStatusRecord& r, TimePoint now, bool with_pem) {
  const CertificateRecord& c = r.certificate;
  json j = {{"issuer", c.issuer_id},
            {"serial", c.serial},
            {"generation", c.generation},
            {"subject", c.subject},
            {"sans", c.sans},
            {"not_before", FormatRfc3339(c.not_before)},
            {"not_after", FormatRfc3339(c.not_after)},
            {"issued_at", FormatRfc3339(c.issued_at)},
            {"issued_by", c.issued_by},
            {"status", StatusName(r, now)},
            {"revocation", r.revocation ? RevocationJson(*r.revocation) : json(nullptr)}};
  if (with_pem) {
    auto cert = ParseCertificateDer(c.cert_der);
    j["certificate"] = cert.ok() ? CertificateToPem(cert->get()) : "";
  }
  return j;
}

}  // namespace

HttpResponse IssueCertificate(const HttpRequest& req, App& app) {
  auto actor = ApiActorFor(req, app);
  if (!actor.ok()) return ErrorResponse(actor.status());
  auto body = JsonBody(req, false);
  if (!body.ok()) return ErrorResponse(body.status());
  auto params = IssueParamsFrom(*body);
  if (!params.ok()) return ErrorResponse(params.status());
  ops::OpContext ctx = app.Context(*actor);
  auto issued = ops::IssueCertificate(ctx, *params);
  if (!issued.ok()) return ErrorResponse(issued.status());
  app.logger()->info("{} issued {}/{} (not after {})", actor->name, issued->issuer,
                     issued->serial, FormatRfc3339(issued->not_after));
  json out = {{"serial", issued->serial},
              {"certificate", issued->certificate_pem},
              {"chain", issued->chain_pem},
              {"issuer", issued->issuer},
              {"generation", issued->generation},
              {"not_after", FormatRfc3339(issued->not_after)}};
  if (!issued->private_key_pem.empty()) {
    out["private_key"] = std::string(issued->private_key_pem.view());
  }
  HttpResponse r = JsonResponse(201, out);
  // The response body is the one copy that has to exist; wipe the other.
  if (out.contains("private_key")) Cleanse(out["private_key"].get_ref<std::string&>());
  r.Set("Location", "/api/v1/certificates/" + issued->serial);
  r.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse GetCertificate(const HttpRequest& req, App& app) {
  auto query = QueryParams(req, {"issuer"});
  if (!query.ok()) return ErrorResponse(query.status());
  auto serial = Serial::Parse(req.Param("serial"));
  if (!serial.ok()) return ErrorResponse(serial.status());
  std::string issuer = (*query)["issuer"];
  if (!issuer.empty()) {
    auto id = ParseIssuerId(issuer);
    if (!id.ok()) return ErrorResponse(id.status());
  }
  ops::OpContext ctx = app.Context(app.DaemonActor());
  auto found = ops::FindCertificates(ctx, serial->hex(), issuer);
  if (!found.ok()) return ErrorResponse(found.status());
  if (found->empty()) {
    return ErrorResponse(
        Status::NotFound("no certificate with serial " + serial->hex() +
                         (issuer.empty() ? "" : " from issuer " + issuer)));
  }
  if (found->size() > 1) {
    return ErrorResponse(Status::InvalidArgument(
        "serial " + serial->hex() + " exists under several issuers; add ?issuer="));
  }
  return JsonResponse(200, CertificateJson(found->front(), app.clock().Now(), true));
}

HttpResponse ListCertificates(const HttpRequest& req, App& app) {
  auto query = QueryParams(req, {"issuer", "status", "limit", "cursor"});
  if (!query.ok()) return ErrorResponse(query.status());
  CertificateListFilter filter;
  filter.issuer = (*query)["issuer"];
  if (!filter.issuer.empty()) {
    auto id = ParseIssuerId(filter.issuer);
    if (!id.ok()) return ErrorResponse(id.status());
  }
  filter.cursor = (*query)["cursor"];
  auto status = ParseCertificateStatusFilter((*query)["status"]);
  if (!status.ok()) return ErrorResponse(status.status());
  filter.status = *status;
  if (!(*query)["limit"].empty()) {
    auto limit = ParseBoundedInt((*query)["limit"], "limit", 1, 1000);
    if (!limit.ok()) return ErrorResponse(limit.status());
    filter.limit = *limit;
  }
  ops::OpContext ctx = app.Context(app.DaemonActor());
  auto page = ops::ListCertificates(ctx, filter);
  if (!page.ok()) return ErrorResponse(page.status());
  TimePoint now = ctx.clock.Now();
  json items = json::array();
  for (const auto& r : page->items) items.push_back(CertificateJson(r, now, false));
  return JsonResponse(
      200, {{"items", items},
            {"next_cursor",
             page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

HttpResponse RevokeCertificate(const HttpRequest& req, App& app) {
  auto actor = ApiActorFor(req, app);
  if (!actor.ok()) return ErrorResponse(actor.status());
  auto body = JsonBody(req, true);
  if (!body.ok()) return ErrorResponse(body.status());
  if (Status s = OnlyFields(*body, {"reason", "issuer"}); !s.ok())
    return ErrorResponse(s);
  auto reason = StringField(*body, "reason");
  if (!reason.ok()) return ErrorResponse(reason.status());
  auto issuer = StringField(*body, "issuer");
  if (!issuer.ok()) return ErrorResponse(issuer.status());
  ops::RevokeParams p;
  p.serial = req.Param("serial");
  if (*issuer) p.issuer = **issuer;
  if (*reason) p.reason = **reason;
  ops::OpContext ctx = app.Context(*actor);
  auto revoked = ops::RevokeCertificate(ctx, p);
  if (!revoked.ok()) return ErrorResponse(revoked.status());
  const RevocationRecord& r = revoked->revocation;
  app.Revoked(r.issuer_id, r.serial);
  app.logger()->info("{} revoked {}/{} ({})", actor->name, r.issuer_id, r.serial,
                     RevocationReasonName(r.reason));
  json out = RevocationJson(r);
  out["issuer"] = r.issuer_id;
  out["serial"] = r.serial;
  return JsonResponse(200, out);
}

}  // namespace certctl::daemon::handlers
