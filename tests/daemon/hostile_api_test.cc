// Hostile issuance and revocation requests against the real HTTPS API
// listener: issue 8's CSRs, broken JSON, content types, oversized and
// truncated bodies, revocation reasons certctl refuses, NULs in identifiers.
// Each row asserts the status, an error message with its reason and without
// database text, and that nothing changed (no certificate, no revocation, the
// cached OCSP answer kept); a control row per table shows a real change.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include "certctl/pki/ocsp.h"
#include "certctl/util/identifiers.h"
#include "daemon/hostile_input_fixture.h"
#include "support/test_pki.h"

namespace certctl::testing {
namespace {

TEST_F(HostileInputTest, IssuanceRequests) {
  const std::string path = "/api/v1/certificates";
  const std::string auth = "Authorization: Bearer " + std::string(kOperatorKey);
  const std::string json_type = "Content-Type: application/json";
  auto post = [&](const std::string& body, const std::string& type,
                  std::optional<size_t> length = std::nullopt) {
    std::vector<std::string> headers = {auth};
    if (!type.empty()) headers.push_back(type);
    return HttpRequestBytes("POST", path, headers, body, length);
  };
  auto csr = [](const CsrSpec& spec) {
    return nlohmann::json{{"csr", CsrPem(spec)}}.dump();
  };
  CsrSpec ous{.subject = {Cn("ous.example")}};
  for (int i = 0; i < 1000; ++i) {
    ous.subject.push_back(
        {NID_organizationalUnitName, V_ASN1_UTF8STRING, "unit " + std::to_string(i)});
  }
  CsrSpec sans{.subject = {Cn("sans.example")}};
  for (int i = 0; i < 2000; ++i) {
    sans.sans.push_back({GEN_DNS, "n" + std::to_string(i) + ".example"});
  }
  const std::string nul_bmp = Bmp("evil.example") + std::string(2, '\0') + Bmp(".x");
  const std::string explicit_ec = nlohmann::json{
      {"csr",
       CliKeyCsr({"ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey"},
                 "explicit.example")}}.dump();
  const std::string ok = csr({.subject = {Cn("ok.example")}});
  struct Row {
    std::string name;
    std::string bytes;
    Ending ending = Ending::kWhole;
    int http = 400;      // 0: closed without an answer
    std::string reason;  // a phrase of the error message
    bool issued = false;
  };
  const std::vector<Row> rows = {
      {"control: a plain CSR is issued", post(ok, json_type), {}, 201, "", true},
      // The CSRs of issue 8.
      {"e-mail SAN with 0xFF",
       post(csr({.subject = {Cn("ff.example")},
                 .sans = {{GEN_EMAIL, "a\xff@example.com"}}}),
            json_type),
       {},
       400,
       "e-mail"},
      {"NUL in a UTF8String CN",
       post(csr({.subject = {Cn(std::string("evil.example\0.x", 15))}}), json_type),
       {},
       400,
       "control character"},
      {"NUL in a BMPString CN",
       post(csr({.subject = {{NID_commonName, V_ASN1_BMPSTRING, nul_bmp}}}), json_type),
       {},
       400,
       "control character"},
      {"10000-character CN",
       post(csr({.subject = {Cn(std::string(10000, 'a'))}}), json_type),
       {},
       400,
       "at most 64"},
      {"1000 OUs", post(csr(ous), json_type), {}, 400, "attributes"},
      {"2000 SANs", post(csr(sans), json_type), {}, 400, "subjectAltName"},
      {"*.com",
       post(csr({.subject = {Cn("c.example")}, .sans = {{GEN_DNS, "*.com"}}}), json_type),
       {},
       400,
       "wildcard"},
      {"EC key with explicit curve parameters",
       post(explicit_ec, json_type),
       {},
       400,
       "named curve"},
      // JSON.
      {"not JSON", post("{\"csr\": ", json_type), {}, 400, "not valid JSON"},
      {"a JSON array", post("[]", json_type), {}, 400, "JSON object"},
      {"\\u0000 in a string",
       post(R"({"csr": "a\u0000b"})", json_type),
       {},
       400,
       "control character"},
      {"unknown field",
       post(R"({"csr": "x", "admin": true})", json_type),
       {},
       400,
       "unknown field"},
      {"invalid UTF-8 in JSON",
       post("{\"csr\": \"\xff\"}", json_type),
       {},
       400,
       "not valid JSON"},
      // Content types: the API takes JSON.
      {"text/plain", post(ok, "Content-Type: text/plain"), {}, 415, "application/json"},
      {"form (curl --data)",
       post(ok, "Content-Type: application/x-www-form-urlencoded"),
       {},
       415,
       "application/json"},
      {"multipart",
       post(ok, "Content-Type: multipart/form-data; boundary=x"),
       {},
       415,
       "application/json"},
      {"no Content-Type: read as JSON",
       post(csr({.subject = {Cn("c.example")}, .sans = {{GEN_DNS, "*.com"}}}), ""),
       {},
       400,
       "wildcard"},
      // Bodies.
      {"body over 1 MiB, announced",
       post("", json_type, 1024 * 1024 + 1),
       {},
       413,
       "the request body is"},
      {"body over 1 MiB, chunked",
       HttpRequestBytes("POST", path, {auth, json_type, "Transfer-Encoding: chunked"},
                        ChunkedBody(1024 * 1024 + 1)),
       {},
       413,
       "the request body is"},
      {"body shorter than announced, client closes", post(ok, json_type, ok.size() + 10),
       Ending::kHalfClose, 400, "ended before"},
      {"body shorter than announced, client stalls", post(ok, json_type, ok.size() + 10),
       Ending::kStall, 0},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    State before = Now();
    Answer a = Exchange(true, row.bytes, row.ending);
    ASSERT_EQ(a.status, row.http) << a.head << "\n" << Printable(a.body, 300);
    if (a.status >= 400) ExpectCleanError(a, row.reason);
    State expected = before;
    if (row.issued) {
      expected.certificates += 1;
      expected.audit_events += 1;
    }
    EXPECT_EQ(Now(), expected);
  }
}

TEST_F(HostileInputTest, RevocationRequests) {
  std::string serial = Issue("target.example").serial;
  auto parsed_serial = Serial::Parse(serial);
  ASSERT_TRUE(parsed_serial.ok());
  const std::string ocsp = HttpRequestBytes("POST", "/.well-known/pki/ocsp/iss-local",
                                            {"Content-Type: application/ocsp-request"},
                                            OcspRequest({*parsed_serial}));
  auto ocsp_status = [&] {
    auto parsed = ParseOcspResponse(Exchange(false, ocsp, Ending::kWhole).body);
    EXPECT_TRUE(parsed.ok() && parsed->singles.size() == 1);
    return parsed.ok() && parsed->singles.size() == 1 ? parsed->singles[0].status
                                                      : OcspCertStatus::kUnknown;
  };
  // A cached "good" answer (memory and database) that a revocation would drop.
  ASSERT_EQ(ocsp_status(), OcspCertStatus::kGood);
  app_->ocsp().FlushWriteBacks();  // written back in batches, off the request path
  ASSERT_EQ(Count("ocsp_response_cache"), 1);
  const std::string path = "/api/v1/certificates/" + serial + "/revoke";
  const std::string auth = "Authorization: Bearer " + std::string(kOperatorKey);
  const std::string json_type = "Content-Type: application/json";
  auto post = [&](const std::string& body, const std::string& type = "",
                  std::optional<size_t> length = std::nullopt,
                  const std::string& to = "") {
    std::vector<std::string> headers = {auth, json_type};
    if (!type.empty()) headers[1] = type;
    return HttpRequestBytes("POST", to.empty() ? path : to, headers, body, length);
  };
  auto reason = [](const std::string& r) { return nlohmann::json{{"reason", r}}.dump(); };
  struct Row {
    std::string name;
    std::string bytes;
    Ending ending = Ending::kWhole;
    int http = 400;
    std::string reason;  // a phrase of the error message
  };
  const std::vector<Row> rows = {
      {"removeFromCRL", post(reason("removeFromCRL")), {}, 400, "delta CRL"},
      {"aACompromise", post(reason("aACompromise")), {}, 400, "attribute certificates"},
      {"certificateHold", post(reason("certificateHold")), {}, 400, "hold"},
      {"reason as its code 8", post(R"({"reason": 8})"), {}, 400, "must be a string"},
      {"unknown reason",
       post(reason("compromised")),
       {},
       400,
       "unknown revocation reason"},
      {"reason with a NUL",
       post(R"({"reason": "keyCompromise\u0000"})"),
       {},
       400,
       "control character"},
      {"issuer with a NUL",
       post(R"({"issuer": "iss-local\u0000x"})"),
       {},
       400,
       "control character"},
      {"issuer in upper case", post(R"({"issuer": "ISS-LOCAL"})"), {}, 400, "issuer"},
      {"serial with a NUL in the path",
       post("{}", "", std::nullopt, "/api/v1/certificates/" + serial + "%00/revoke"),
       {},
       400,
       "serial"},
      {"serial nobody issued",
       post("{}", "", std::nullopt, "/api/v1/certificates/abc/revoke"),
       {},
       404,
       "no certificate"},
      {"text/plain",
       post(reason("keyCompromise"), "Content-Type: text/plain"),
       {},
       415,
       "application/json"},
      {"body over 1 MiB, announced",
       post("", "", 1024 * 1024 + 1),
       {},
       413,
       "the request body is"},
      {"body shorter than announced, client closes",
       post(reason("keyCompromise"), "", 40), Ending::kHalfClose, 400, "ended before"},
      {"body shorter than announced, client stalls",
       post(reason("keyCompromise"), "", 40), Ending::kStall, 0},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    State before = Now();
    Answer a = Exchange(true, row.bytes, row.ending);
    ASSERT_EQ(a.status, row.http) << a.head << "\n" << Printable(a.body, 300);
    if (a.status >= 400) ExpectCleanError(a, row.reason);
    EXPECT_EQ(Now(), before);
  }
  EXPECT_EQ(ocsp_status(), OcspCertStatus::kGood);
  // Control: a revocation the API accepts changes exactly what the checks read.
  State before = Now();
  Answer a = Exchange(true, post(reason("keyCompromise")), Ending::kWhole);
  ASSERT_EQ(a.status, 200) << a.body;
  State after = Now();
  EXPECT_EQ(after.revocations, before.revocations + 1);
  EXPECT_EQ(after.cached_rows, before.cached_rows - 1);
  EXPECT_EQ(after.cached_in_memory, before.cached_in_memory - 1);
  EXPECT_EQ(after.audit_events, before.audit_events + 1);
  EXPECT_NE(after.epochs, before.epochs);
  EXPECT_EQ(ocsp_status(), OcspCertStatus::kRevoked);
}

}  // namespace
}  // namespace certctl::testing
