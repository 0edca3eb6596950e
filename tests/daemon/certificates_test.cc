// POST/GET /api/v1/certificates, revoke, issuers and audit.
#include <gtest/gtest.h>

#include "certctl/pki/csr.h"
#include "certctl/pki/keys.h"
#include "daemon/daemon_fixture.h"

namespace certctl::testing {
namespace {

class CertificatesApiTest : public DaemonTest {
 protected:
  std::string Csr(const std::string& cn) {
    auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
    EXPECT_TRUE(key.ok());
    auto csr = MakeCsrPem(key->get(), cn, {cn});
    EXPECT_TRUE(csr.ok());
    return *csr;
  }
  nlohmann::json IssueOk(const std::string& cn) {
    auto r = Post("/api/v1/certificates", nlohmann::json{{"csr", Csr(cn)}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r);
  }
};

TEST_F(CertificatesApiTest, IssuesFromAnOpensslCsr) {
  std::string key = *dir_ / "leaf.key", csr = *dir_ / "leaf.csr";
  auto made = Command({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj",
                       "/CN=api.example", "-addext", "subjectAltName=DNS:api.example",
                       "-out", csr});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  auto pem = ReadFile(csr);
  ASSERT_TRUE(pem.ok());
  auto r = Post("/api/v1/certificates",
                nlohmann::json{{"csr", *pem}, {"validity_days", 30}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["issuer"], "iss-local");
  EXPECT_EQ(r.Header("location"),
            "/api/v1/certificates/" + j["serial"].get<std::string>());
  EXPECT_FALSE(j.contains("private_key"));
  // The operator's check: the certificate chains to the returned CA and
  // carries the serial the API returned.
  std::string cert = WriteFile("leaf.crt", j["certificate"]);
  std::string chain = WriteFile("chain.pem", j["chain"]);
  auto verify = Command({"openssl", "verify", "-CAfile", chain, cert});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto serial = Command({"openssl", "x509", "-in", cert, "-noout", "-serial"});
  std::string shown = serial.output.substr(serial.output.find('=') + 1);
  while (!shown.empty() && shown.back() == '\n') shown.pop_back();
  std::string expected = j["serial"];
  std::transform(shown.begin(), shown.end(), shown.begin(), ::tolower);
  shown.erase(0, std::min(shown.find_first_not_of('0'), shown.size()));
  EXPECT_EQ(shown, expected);
  auto text = Command({"openssl", "x509", "-in", cert, "-noout", "-text"});
  EXPECT_NE(text.output.find("/.well-known/pki/ocsp/iss-local"), std::string::npos);
  EXPECT_NE(text.output.find("/.well-known/pki/crl/iss-local/1"), std::string::npos);
}

TEST_F(CertificatesApiTest, ServerSideKeyForDemos) {
  auto r = Post("/api/v1/certificates",
                R"({"generate_key": true, "common_name": "demo.example",
                    "dns_names": ["demo.example"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = Json(r);
  EXPECT_NE(j["private_key"].get<std::string>().find("BEGIN PRIVATE KEY"),
            std::string::npos);
  EXPECT_EQ(r.Header("cache-control"), "no-store");
}

TEST_F(CertificatesApiTest, BadRequestsAreRefusedAndChangeNothing) {
  struct Case {
    const char* body;
    int status;
  } cases[] = {
      {"", 400},
      {"not json", 400},
      {"[1, 2]", 400},
      {R"({"csr": 5})", 400},
      {R"({"csr": "-----BEGIN CERTIFICATE REQUEST-----\ngarbage\n"})", 400},
      {R"({"cssr": "typo"})", 400},
      {R"({"generate_key": "dsa-512", "common_name": "x"})", 400},
      {R"({"common_name": "x"})", 400},
  };
  for (const auto& c : cases) {
    auto r = Post("/api/v1/certificates", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(Json(r)["error"]["code"], "invalid_argument") << c.body;
  }
  auto r =
      Post("/api/v1/certificates",
           nlohmann::json{{"csr", Csr("x.example")}, {"validity_days", 100000}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post("/api/v1/certificates",
           nlohmann::json{{"csr", Csr("x.example")}, {"issuer", "iss-nope"}}.dump());
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_EQ(Count("certificates"), 0);
}

TEST_F(CertificatesApiTest, GetAndList) {
  auto a = IssueOk("a.example");
  auto b = IssueOk("b.example");
  std::string serial = a["serial"];
  std::string upper = serial;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto r = Get("/api/v1/certificates/00" + upper);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["serial"], serial);
  EXPECT_EQ(j["status"], "active");
  EXPECT_EQ(j["subject"], "CN=a.example");
  EXPECT_NE(j["certificate"].get<std::string>().find("BEGIN CERTIFICATE"),
            std::string::npos);

  EXPECT_EQ(Get("/api/v1/certificates/zz").status, 400);
  EXPECT_EQ(Get("/api/v1/certificates/abcdef").status, 404);

  r = Get("/api/v1/certificates?issuer=iss-local&limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  j = Json(r);
  ASSERT_EQ(j["items"].size(), 1u);
  ASSERT_TRUE(j["next_cursor"].is_string());
  r = Get("/api/v1/certificates?limit=1&cursor=" + j["next_cursor"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.body;
  auto page2 = Json(r);
  ASSERT_EQ(page2["items"].size(), 1u);
  EXPECT_NE(page2["items"][0]["serial"], j["items"][0]["serial"]);

  EXPECT_EQ(Get("/api/v1/certificates?limit=0").status, 400);
  EXPECT_EQ(Get("/api/v1/certificates?limit=ten").status, 400);
  EXPECT_EQ(Get("/api/v1/certificates?status=sleeping").status, 400);
  EXPECT_EQ(Get("/api/v1/certificates?colour=red").status, 400);
}

TEST_F(CertificatesApiTest, RevokeOnceThenConflict) {
  auto c = IssueOk("r.example");
  std::string serial = c["serial"];
  std::string path = "/api/v1/certificates/000" + serial + "/revoke";
  auto r = Post(path, R"({"reason": "keyCompromise"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  EXPECT_EQ(j["serial"], serial);
  EXPECT_EQ(j["reason"], "keyCompromise");
  EXPECT_EQ(j["revoked_by"], "api:ops");
  EXPECT_EQ(Sql(url_, "SELECT revoked_by FROM certificate_revocations WHERE serial = '" +
                          serial + "'"),
            "api:ops");
  EXPECT_EQ(Sql(url_, "SELECT reason FROM certificate_revocations WHERE serial = '" +
                          serial + "'"),
            "1");

  r = Post(path, R"({"reason": "superseded"})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Json(r)["error"]["code"], "already_exists");
  // The first reason stands.
  EXPECT_EQ(Json(Get("/api/v1/certificates/" + serial))["revocation"]["reason"],
            "keyCompromise");
}

TEST_F(CertificatesApiTest, RevokeRefusals) {
  auto c = IssueOk("r2.example");
  std::string serial = c["serial"];
  auto r = Post("/api/v1/certificates/abcdef12/revoke", R"({"reason": "keyCompromise"})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = Post("/api/v1/certificates/" + serial + "/revoke",
           R"({"reason": "KeyCompromise"})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post("/api/v1/certificates/" + serial + "/revoke", R"({"reason": 1})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = Post("/api/v1/certificates/not-hex/revoke", R"({})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Count("certificate_revocations"), 0);
  // No body at all: unspecified.
  r = Post("/api/v1/certificates/" + serial + "/revoke", "");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["reason"], "unspecified");
}

// removeFromCRL in a complete CRL un-revokes for `openssl verify -crl_check`;
// aACompromise is for attribute certificates; certificateHold has no release
// here and the CA/B Forum forbids it for TLS. Each is refused, named, and the
// certificate stays exactly as it was.
TEST_F(CertificatesApiTest, ReasonsThatCannotBeHonouredAreRefused) {
  auto c = IssueOk("reasons.example");
  std::string serial = c["serial"];
  struct Case {
    const char* reason;
    const char* why;  // a phrase of the error message
  } cases[] = {
      {"removeFromCRL", "delta CRL"},     {"aACompromise", "attribute certificates"},
      {"certificateHold", "hold"},        {"unknown", "unknown revocation reason"},
      {"7", "unknown revocation reason"}, {"8", "unknown revocation reason"},
  };
  for (const auto& tc : cases) {
    auto r = Post("/api/v1/certificates/" + serial + "/revoke",
                  nlohmann::json{{"reason", tc.reason}}.dump());
    EXPECT_EQ(r.status, 400) << tc.reason << ": " << r.body;
    std::string message = Json(r)["error"]["message"];
    EXPECT_NE(message.find(tc.why), std::string::npos) << tc.reason << ": " << message;
    EXPECT_NE(message.find(tc.reason), std::string::npos) << tc.reason << ": " << message;
  }
  EXPECT_EQ(Count("certificate_revocations"), 0);
  EXPECT_EQ(Json(Get("/api/v1/certificates/" + serial))["status"], "active");
  EXPECT_EQ(Sql(url_, "SELECT revocation_epoch FROM issuers WHERE id = 'iss-local'"),
            "0");
}

TEST_F(CertificatesApiTest, IssuersAndAudit) {
  auto c = IssueOk("audit.example");
  ASSERT_EQ(Post("/api/v1/certificates/" + c["serial"].get<std::string>() + "/revoke",
                 R"({"reason": "superseded"})")
                .status,
            200);
  auto r = Get("/api/v1/issuers");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = Json(r);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["id"], "iss-local");
  EXPECT_EQ(j["items"][0]["generations"][0]["state"], "active");
  EXPECT_EQ(j["items"][0]["revocation_epoch"], 1);

  r = Get("/api/v1/audit?action=certificate.revoke");
  ASSERT_EQ(r.status, 200) << r.body;
  j = Json(r);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["actor"], "api:ops");
  EXPECT_EQ(j["items"][0]["parameters"]["reason"], "superseded");
  r = Get("/api/v1/audit?since=2200-01-01T00:00:00Z");
  EXPECT_EQ(Json(r)["items"].size(), 0u);
  EXPECT_EQ(Get("/api/v1/audit?since=yesterday").status, 400);
}

}  // namespace
}  // namespace certctl::testing
