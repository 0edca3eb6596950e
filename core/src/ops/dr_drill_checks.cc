// What `dr drill` asks its scratch certctld, as a relying party would: a
// certificate issued and revoked through the API, then the CRL and the OCSP
// answer, each checked with the CA certificate of the restored copy.
#include <nlohmann/json.hpp>
#include <thread>

#include "certctl/net/http_client.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/pki/ocsp.h"
#include "certctl/pki/serial.h"
#include "certctl/util/interrupt.h"
#include "ops/dr_drill_internal.h"
#include "store/issuer_repo.h"

namespace certctl::ops::internal {
namespace {

constexpr char kTestName[] = "dr-drill.certctl.invalid";

net::HttpClient Client(const DrillScratch& s) {
  return net::HttpClient({.timeout = std::chrono::seconds(30), .ca_file = s.tls_cert});
}

std::vector<std::pair<std::string, std::string>> Bearer(const DrillScratch& s) {
  return {{"Authorization", "Bearer " + std::string(s.api_key.view())}};
}

// The JSON body of a response with the `expected` status, or an error naming
// what the daemon said.
Result<nlohmann::json> Expect(const Result<net::HttpResponse>& response, int expected,
                              const std::string& what) {
  if (!response.ok()) return response.status().WithContext(what);
  if (response->status != expected) {
    return Status::FailedPrecondition(what + ": HTTP " +
                                      std::to_string(response->status) + " " +
                                      response->body.substr(0, 500));
  }
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (body.is_discarded()) return Status::Corruption(what + ": the answer is not JSON");
  return body;
}

// The CA certificate of the generation that issued the test certificate, as
// the restored copy holds it.
Result<UniquePtr<X509>> RestoredCaCertificate(DrillScratch& s, const DrDrill& r) {
  ASSIGN_OR_RETURN(
      auto gen, s.copy.db->Query<std::optional<CaGenerationRecord>>([&](Transaction& tx) {
        return IssuerRepo::FindGeneration(tx, r.issuer, r.generation);
      }));
  if (!gen) {
    return Status::NotFound("the restored copy has no generation " +
                            std::to_string(r.generation) + " of " + r.issuer);
  }
  return ParseCertificatePem(gen->cert_pem);
}

// Whether `der` is a CRL of `ca` listing `serial`; its number.
Result<bool> CrlLists(const std::string& der, X509* ca, const std::string& serial,
                      int64_t& number) {
  ASSIGN_OR_RETURN(CrlView crl, CrlView::Parse(der));
  RETURN_IF_ERROR(crl.VerifySignature(ca).WithContext("the CRL"));
  number = crl.crl_number().value_or(0);
  bool listed = false;
  RETURN_IF_ERROR(crl.ForEachEntry([&](const CrlEntry& e) {
    listed = listed || e.serial == serial;
    return Status::Ok();
  }));
  return listed;
}

}  // namespace

Status IssueTestCertificate(DrillScratch& s, DrDrill& result) {
  nlohmann::json request = {{"issuer", kLocalIssuerId},
                            {"generate_key", true},
                            {"common_name", kTestName},
                            {"dns_names", nlohmann::json::array({kTestName})},
                            {"validity_days", 1}};
  ASSIGN_OR_RETURN(auto body,
                   Expect(Client(s).Post(result.api_url + "/api/v1/certificates",
                                         "application/json", request.dump(), Bearer(s)),
                          201, "issuing the test certificate"));
  if (!body.contains("serial") || !body["serial"].is_string() ||
      !body.contains("generation") || !body["generation"].is_number_integer()) {
    return Status::Corruption("the issue answer names no serial and generation");
  }
  result.issuer = kLocalIssuerId;
  result.serial = body["serial"].get<std::string>();
  result.generation = body["generation"].get<int>();
  return Status::Ok();
}

Status RevokeTestCertificate(DrillScratch& s, DrDrill& result) {
  nlohmann::json request = {{"issuer", result.issuer},
                            {"reason", "cessationOfOperation"}};
  return Expect(Client(s).Post(
                    result.api_url + "/api/v1/certificates/" + result.serial + "/revoke",
                    "application/json", request.dump(), Bearer(s)),
                200, "revoking the test certificate")
      .status();
}

// certctld signs a new CRL after a revocation by itself (its scheduler is told
// at once): asked until it lists the serial, within the step's time.
Status CheckScratchCrl(const DrDrillOptions& options, DrillScratch& s, DrDrill& result) {
  ASSIGN_OR_RETURN(auto ca, RestoredCaCertificate(s, result));
  std::string url = result.pki_url + "/.well-known/pki/crl/" + result.issuer + "/" +
                    std::to_string(result.generation);
  auto deadline = std::chrono::steady_clock::now() + options.step_timeout;
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    RETURN_IF_ERROR(CheckInterrupted("waiting for the scratch certctld's CRL"));
    auto response = Client(s).Get(url);
    if (response.ok() && response->status == 200) {
      ASSIGN_OR_RETURN(bool listed, CrlLists(response->body, ca.get(), result.serial,
                                             result.crl_number));
      if (listed) return Status::Ok();
      last =
          "CRL " + std::to_string(result.crl_number) + " does not list " + result.serial;
    } else {
      last = response.ok() ? "HTTP " + std::to_string(response->status)
                           : response.status().message();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::DeadlineExceeded(
      "the CRL at " + url + " did not list " + result.serial + " within " +
      std::to_string(options.step_timeout.count()) + " ms (" + last + ")");
}

Status CheckScratchOcsp(DrillScratch& s, DrDrill& result) {
  ASSIGN_OR_RETURN(auto ca, RestoredCaCertificate(s, result));
  ASSIGN_OR_RETURN(Serial serial, Serial::Parse(result.serial));
  ASSIGN_OR_RETURN(std::string request, MakeOcspRequestDer(ca.get(), {serial}));
  std::string url = result.pki_url + "/.well-known/pki/ocsp/" + result.issuer;
  auto response = Client(s).Post(url, "application/ocsp-request", request);
  if (!response.ok()) return response.status().WithContext("asking " + url);
  if (response->status != 200) {
    return Status::FailedPrecondition(url + " answered HTTP " +
                                      std::to_string(response->status));
  }
  ASSIGN_OR_RETURN(auto parsed, ParseOcspResponse(response->body));
  if (parsed.response_status != 0) {
    return Status::FailedPrecondition("the OCSP response is not successful (status " +
                                      std::to_string(parsed.response_status) + ")");
  }
  RETURN_IF_ERROR(VerifyOcspResponse(parsed, ca.get()).WithContext("the OCSP response"));
  for (const auto& single : parsed.singles) {
    if (single.serial != result.serial) continue;
    result.ocsp_status = std::string(OcspCertStatusName(single.status));
    if (single.status == OcspCertStatus::kRevoked) return Status::Ok();
    return Status::FailedPrecondition("OCSP says " + result.ocsp_status + " for " +
                                      result.serial + ", which was revoked");
  }
  return Status::FailedPrecondition("the OCSP response has no answer for " +
                                    result.serial);
}

}  // namespace certctl::ops::internal
