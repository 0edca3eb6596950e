// The PKI endpoints through the router, checked with the openssl CLI.
#include <gtest/gtest.h>

#include <thread>

#include "certctl/util/encoding.h"
#include "daemon/daemon_fixture.h"
#include "daemon/schedulers/crl_scheduler.h"
#include "ops/ocsp_service_testing.h"

namespace certctl::testing {
namespace {

class PkiTest : public DaemonTest {
 protected:
  // A DER OCSP request made by `openssl ocsp -reqout` for a serial.
  std::string OcspRequest(const std::string& serial, bool nonce = false) {
    std::string out = *dir_ / ("req-" + serial + (nonce ? "-n" : "") + ".der");
    std::vector<std::string> argv = {"openssl", "ocsp",        "-issuer", ca_cert_path_,
                                     "-serial", "0x" + serial, "-reqout", out};
    argv.push_back(nonce ? "-nonce" : "-no_nonce");
    auto r = Command(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    auto der = ReadFile(out);
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }
  // `openssl ocsp -respin` on a response: its text and exit code.
  Run CheckResponse(const std::string& der, const std::string& serial) {
    std::string path = WriteFile("resp-" + std::to_string(++responses_) + ".der", der);
    return Command({"openssl", "ocsp", "-respin", path, "-issuer", ca_cert_path_,
                    "-serial", "0x" + serial, "-CAfile", ca_cert_path_, "-resp_text",
                    "-no_nonce"});
  }
  daemon::HttpResponse PostOcsp(const std::string& body,
                                const std::string& type = "application/ocsp-request") {
    auto req = Request("POST", "/.well-known/pki/ocsp/iss-local", "", body,
                       daemon::ListenerKind::kPki);
    if (!type.empty()) req.headers.emplace_back("content-type", type);
    return Call(req);
  }
  int responses_ = 0;
};

TEST_F(PkiTest, CrlWithCacheHeadersVerifiesWithOpenssl) {
  auto r = Get("/.well-known/pki/crl/iss-local", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/pkix-crl");
  std::string etag = r.Header("etag");
  EXPECT_EQ(etag.front(), '"');
  std::string cc = r.Header("cache-control");
  ASSERT_EQ(cc.rfind("public, max-age=", 0), 0u) << cc;
  long max_age = std::stol(cc.substr(16));
  EXPECT_GT(max_age, 0);
  EXPECT_LE(
      max_age,
      std::chrono::duration_cast<std::chrono::seconds>(config_.crl_validity).count());
  EXPECT_NE(r.Header("expires").find(" GMT"), std::string::npos);
  std::string crl = WriteFile("iss-local.crl", std::string(r.Body()));
  auto verify = Command({"openssl", "crl", "-inform", "DER", "-in", crl, "-CAfile",
                         ca_cert_path_, "-noout"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("verify OK"), std::string::npos) << verify.output;

  // Conditional GET.
  auto req = Request("GET", "/.well-known/pki/crl/iss-local/1");
  req.headers.emplace_back("if-none-match", "\"other\", " + etag);
  auto again = Call(req);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.Header("etag"), etag);
}

TEST_F(PkiTest, CrlRefusesMalformedAndUnknownIssuers) {
  auto r = Get("/.well-known/pki/crl/ISS_LOCAL", "");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r)["error"]["code"], "invalid_argument");
  EXPECT_EQ(Get("/.well-known/pki/crl/iss-local/zero", "").status, 400);
  EXPECT_EQ(Get("/.well-known/pki/crl/iss-local/0", "").status, 400);
  EXPECT_EQ(Get("/.well-known/pki/crl/iss-other", "").status, 404);
  EXPECT_EQ(Get("/.well-known/pki/crl/iss-local/7", "").status, 404);
}

// Concurrent GETs of a CRL send one immutable buffer, the CRL in memory,
// instead of a copy each (a 1M-entry CRL is 44 MB).
TEST_F(PkiTest, ConcurrentCrlGetsShareOneBuffer) {
  constexpr int kClients = 8;
  std::vector<daemon::HttpResponse> responses(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(
        [&, i] { responses[i] = Get("/.well-known/pki/crl/iss-local", ""); });
  }
  for (auto& c : clients) c.join();
  auto served = app_->crl().Get("iss-local", std::nullopt);
  ASSERT_TRUE(served.ok());
  for (const auto& r : responses) {
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_NE(r.shared_body, nullptr);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.shared_body.get(), &served->crl->der);
  }
  // The service's entry, `served` and the eight responses hold one CRL.
  EXPECT_GE(responses[0].shared_body.use_count(), kClients + 2);
  EXPECT_EQ(responses[0].Body(), served->crl->der);
}

TEST_F(PkiTest, RevokedSerialAppearsInTheCrlAfterTheSchedulerRuns) {
  auto issued = Issue("crl.example");
  ASSERT_EQ(Post("/api/v1/certificates/" + issued.serial + "/revoke",
                 R"({"reason": "keyCompromise"})")
                .status,
            200);
  daemon::CrlScheduler scheduler(*app_, {});
  EXPECT_TRUE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kRevocation));
  EXPECT_FALSE(scheduler.RegenerateIfNeeded("iss-local", ops::CrlTrigger::kRevocation));
  auto r = Get("/.well-known/pki/crl/iss-local", "");
  ASSERT_EQ(r.status, 200);
  std::string crl = WriteFile("revoked.crl", std::string(r.Body()));
  auto text =
      Command({"openssl", "crl", "-inform", "DER", "-in", crl, "-noout", "-text"});
  std::string upper = issued.serial;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  if (upper.size() % 2) upper = "0" + upper;
  EXPECT_NE(text.output.find(upper), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("Key Compromise"), std::string::npos) << text.output;
}

// caIssuers (RFC 5280 §4.2.2.1) names a URL certctld really serves: the
// issuing generation's CA certificate, DER, application/pkix-cert, on both
// listeners; without a generation, the active one.
TEST_F(PkiTest, CaIssuersUrlServesTheIssuingCaCertificate) {
  auto c = Issue("aia.example");
  std::string leaf = WriteFile("aia.pem", c.certificate_pem);
  auto aia =
      Command({"openssl", "x509", "-in", leaf, "-noout", "-ext", "authorityInfoAccess"});
  const std::string marker = "CA Issuers - URI:";
  size_t at = aia.output.find(marker);
  ASSERT_NE(at, std::string::npos) << aia.output;
  std::string url = aia.output.substr(at + marker.size());
  url = url.substr(0, url.find_first_of("\r\n"));
  EXPECT_EQ(url, config_.base_url + "/.well-known/pki/ca/iss-local/1");
  std::string path = url.substr(config_.base_url.size());
  int fetched = 0;
  for (auto listener : {daemon::ListenerKind::kPki, daemon::ListenerKind::kApi}) {
    for (const std::string& p : {path, std::string("/.well-known/pki/ca/iss-local")}) {
      auto r = Call(Request("GET", p, "", "", listener));
      ASSERT_EQ(r.status, 200) << p << ": " << r.body;
      EXPECT_EQ(r.Header("content-type"), "application/pkix-cert");
      EXPECT_EQ(r.Header("cache-control").rfind("public, max-age=", 0), 0u);
      // As a client chasing AIA would use it: DER to PEM, then verify the leaf.
      std::string der = WriteFile("ca-" + std::to_string(++fetched) + ".der", r.body);
      std::string pem = *dir_ / ("ca-" + std::to_string(fetched) + ".pem");
      ASSERT_EQ(Command({"openssl", "x509", "-inform", "DER", "-in", der, "-out", pem})
                    .exit_code,
                0);
      auto verify = Command({"openssl", "verify", "-CAfile", pem, leaf});
      EXPECT_EQ(verify.exit_code, 0) << verify.output;
    }
  }
}

TEST_F(PkiTest, CaCertificateRefusesMalformedAndUnknown) {
  struct Case {
    std::string path;
    int status;
  } cases[] = {
      {"/.well-known/pki/ca/iss-local%00x", 400},
      {"/.well-known/pki/ca/iss-local%00x/1", 400},
      {"/.well-known/pki/ca/ISS-LOCAL", 400},
      {"/.well-known/pki/ca/iss-local%0a", 400},
      {"/.well-known/pki/ca/" + std::string(64, 'a'), 400},
      {"/.well-known/pki/ca/iss-nope", 404},
      {"/.well-known/pki/ca/iss-local/2", 404},
      {"/.well-known/pki/ca/iss-local/0", 400},
      {"/.well-known/pki/ca/iss-local/one", 400},
      {"/.well-known/pki/ca/iss-local/99999999999", 400},
      {"/.well-known/pki/ca/iss-local/1/extra", 404},
  };
  for (const auto& c : cases) {
    auto r = Call(Request("GET", c.path, "", "", daemon::ListenerKind::kPki));
    EXPECT_EQ(r.status, c.status) << c.path << ": " << r.body;
    EXPECT_EQ(r.Header("content-type"), "application/json") << c.path;
  }
}

TEST_F(PkiTest, OcspPostAnswersGoodRevokedAndUnknown) {
  auto good = Issue("good.example");
  auto bad = Issue("bad.example");
  Revoke(bad.serial, "superseded");
  auto r = PostOcsp(OcspRequest(good.serial));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/ocsp-response");
  auto check = CheckResponse(r.body, good.serial);
  EXPECT_NE(check.output.find("0x" + good.serial + ": good"), std::string::npos)
      << check.output;
  EXPECT_NE(check.output.find("Response verify OK"), std::string::npos) << check.output;

  check = CheckResponse(PostOcsp(OcspRequest(bad.serial)).body, bad.serial);
  EXPECT_NE(check.output.find(": revoked"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("Reason: superseded"), std::string::npos) << check.output;

  check = CheckResponse(PostOcsp(OcspRequest("123456789abcdef")).body, "123456789abcdef");
  EXPECT_NE(check.output.find(": unknown"), std::string::npos) << check.output;
  EXPECT_GE(app_->metrics().Value("certctl_ocsp_responses_total",
                                  {{"status", "good"}, {"cache", "miss"}}),
            1);
}

TEST_F(PkiTest, MalformedOcspIsAnOcspErrorNotA500) {
  auto r = PostOcsp("this is not DER");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/ocsp-response");
  std::string path = WriteFile("malformed.der", r.body);
  auto text = Command({"openssl", "ocsp", "-respin", path, "-resp_text", "-noverify"});
  // openssl prints the status in lower case.
  EXPECT_NE(text.output.find("malformedrequest"), std::string::npos) << text.output;

  auto get = Get("/.well-known/pki/ocsp/iss-local/%%%not-base64", "");
  ASSERT_EQ(get.status, 200);
  path = WriteFile("malformed-get.der", get.body);
  text = Command({"openssl", "ocsp", "-respin", path, "-resp_text", "-noverify"});
  EXPECT_NE(text.output.find("malformedrequest"), std::string::npos) << text.output;
  EXPECT_EQ(get.Header("cache-control"), "no-store");

  EXPECT_EQ(PostOcsp(OcspRequest("abc"), "text/plain").status, 415);
  EXPECT_EQ(app_->metrics().Value("certctl_ocsp_responses_total",
                                  {{"status", "malformedRequest"}, {"cache", "miss"}}),
            2);
}

// Issue 8's severe finding, as the attacker ran it: an issuer id with a NUL
// (or any other byte an id cannot have) on every OCSP and CRL route. Each is
// refused before it reaches a cache, a log line or the database, so no such
// path can keep answering "good" after a revocation, or grow memory.
TEST_F(PkiTest, NonCanonicalIssuerIdsAreRefusedOnEveryRoute) {
  auto c = Issue("nul-route.example");
  std::string b64 = Base64Encode(OcspRequest(c.serial));
  ASSERT_NE(Get("/.well-known/pki/ocsp/iss-local/serial/" + c.serial, "").status, 400);
  size_t held = app_->ocsp().MemoryEntries();
  const std::string bad_ids[] = {"iss-local%00x", "iss-local%00",  "iss-local%0a",
                                 "iss-local%ff",  "iss-loc%C3%A9", "ISS-LOCAL",
                                 "iss-local%20",  "%00",           "-iss"};
  for (int round = 0; round < 2; ++round) {
    for (const std::string& id : bad_ids) {
      const std::string base = "/.well-known/pki/ocsp/" + id;
      std::vector<daemon::HttpResponse> answers = {
          Get(base + "/serial/" + c.serial, ""), Get(base + "/" + b64, ""),
          Get("/.well-known/pki/crl/" + id, ""),
          Get("/.well-known/pki/crl/" + id + "/1", "")};
      auto post =
          Request("POST", base, "", OcspRequest(c.serial), daemon::ListenerKind::kPki);
      post.headers.emplace_back("content-type", "application/ocsp-request");
      answers.push_back(Call(post));
      for (const auto& r : answers) {
        EXPECT_EQ(r.status, 400) << id << ": " << r.body;
        EXPECT_EQ(Json(r)["error"]["code"], "invalid_argument") << id;
      }
    }
    // Between the rounds the certificate is revoked: nothing may say good.
    if (round == 0) {
      ASSERT_EQ(Post("/api/v1/certificates/" + c.serial + "/revoke",
                     R"({"reason": "keyCompromise"})")
                    .status,
                200);
    }
  }
  // The revocation dropped the one good answer; nothing else came in.
  EXPECT_EQ(app_->ocsp().MemoryEntries(), 0u);
  auto check = CheckResponse(
      Get("/.well-known/pki/ocsp/iss-local/serial/" + c.serial, "").body, c.serial);
  EXPECT_NE(check.output.find(": revoked"), std::string::npos) << check.output;

  // Many distinct suffixes (each used to load its own responder, ~50 KB):
  // memory stays where it was.
  for (int i = 0; i < 300; ++i) {
    auto r = Get(
        "/.well-known/pki/ocsp/iss-local%00" + std::to_string(i) + "/serial/" + c.serial,
        "");
    ASSERT_EQ(r.status, 400);
  }
  EXPECT_LE(app_->ocsp().MemoryEntries(), held + 1);
  EXPECT_EQ(app_->ocsp().MaterialEvictions(), 0u);
  EXPECT_EQ(app_->crl().MemoryEntries(), 0u);
}

TEST_F(PkiTest, OtherPathParametersAreCanonicalOrRefused) {
  auto c = Issue("canonical.example");
  // A serial in any case and with leading zeros is the same serial.
  std::string upper = c.serial;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto r = Get("/.well-known/pki/ocsp/iss-local/serial/0000" + upper, "");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(CheckResponse(r.body, c.serial).output.find(": good"), std::string::npos);
  for (const std::string& serial : {"%00" + c.serial, c.serial + "%00", c.serial + "%0a",
                                    std::string("%ff"), std::string("0")}) {
    r = Get("/.well-known/pki/ocsp/iss-local/serial/" + serial, "");
    EXPECT_EQ(r.status, 400) << serial;
    // The message quotes the input escaped, so the body stays clean JSON.
    EXPECT_TRUE(Json(r)["error"]["message"].is_string());
  }
  for (std::string g : {"01", "1%00", "-1", "1e0", "%201"}) {
    EXPECT_EQ(Get("/.well-known/pki/crl/iss-local/" + g, "").status, 400) << g;
  }
  EXPECT_EQ(Get("/api/v1/certificates/" + c.serial + "%00", kReaderKey).status, 400);
  EXPECT_EQ(Get("/api/v1/certificates/" + c.serial + "?issuer=iss-local%00x", kReaderKey)
                .status,
            400);
  EXPECT_EQ(Get("/api/v1/certificates?issuer=iss-local%00x", kReaderKey).status, 400);
  EXPECT_EQ(Get("/api/v1/audit?actor=a%00b", kReaderKey).status, 400);
  EXPECT_EQ(Get("/api/v1/certificates?issuer=iss-local", kReaderKey).status, 200);
  // The revoke body's "issuer" is checked as strictly as a path.
  for (std::string body :
       {R"({"issuer": "iss-local\u0000x"})", R"({"issuer": "ISS-LOCAL"})",
        R"({"reason": "keyCompromise\u0000"})"}) {
    r = Post("/api/v1/certificates/" + c.serial + "/revoke", body);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM certificate_revocations"), "0");
}

TEST_F(PkiTest, OcspGetWithBase64AndBySerial) {
  auto c = Issue("get.example");
  std::string b64 = Base64Encode(OcspRequest(c.serial));
  // As RFC 6960 A.1 asks: url-encoded; and as many clients send it: raw.
  std::string encoded;
  for (char ch : b64) {
    if (ch == '/')
      encoded += "%2F";
    else if (ch == '+')
      encoded += "%2B";
    else if (ch == '=')
      encoded += "%3D";
    else
      encoded += ch;
  }
  for (const std::string& form : {encoded, b64}) {
    auto r = Get("/.well-known/pki/ocsp/iss-local/" + form, "");
    ASSERT_EQ(r.status, 200);
    auto check = CheckResponse(r.body, c.serial);
    EXPECT_NE(check.output.find(": good"), std::string::npos) << check.output;
    std::string cc = r.Header("cache-control");
    EXPECT_EQ(cc.rfind("max-age=", 0), 0u) << cc;
    EXPECT_NE(r.Header("expires").find(" GMT"), std::string::npos);
    EXPECT_NE(r.Header("last-modified").find(" GMT"), std::string::npos);
  }
  auto r = Get("/.well-known/pki/ocsp/iss-local/serial/00" + c.serial, "");
  ASSERT_EQ(r.status, 200);
  auto check = CheckResponse(r.body, c.serial);
  EXPECT_NE(check.output.find(": good"), std::string::npos) << check.output;

  r = Get("/.well-known/pki/ocsp/iss-local/serial/xyz", "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["error"]["code"], "invalid_argument");
}

TEST_F(PkiTest, RevocationRacingALiveSigningNeverLeavesGoodCached) {
  auto c = Issue("race.example");
  int calls = 0;
  ops::OcspServiceTestPeer::SetBeforeWriteBackHook(
      app_->ocsp(), [&](const std::string&, const std::string&) {
        if (++calls > 1) return;
        // The API revocation lands after "good" was signed, before it is cached.
        auto r = Post("/api/v1/certificates/" + c.serial + "/revoke",
                      R"({"reason": "keyCompromise"})");
        EXPECT_EQ(r.status, 200) << r.body;
      });
  std::string request = OcspRequest(c.serial);
  auto racing = PostOcsp(request);
  ASSERT_EQ(racing.status, 200);
  EXPECT_EQ(calls, 1);
  // The batched write-back of the "good" answer has been tried (and refused).
  app_->ocsp().FlushWriteBacks();
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ocsp_response_cache WHERE cert_status = 0"),
            "0");
  auto check = CheckResponse(PostOcsp(request).body, c.serial);
  EXPECT_NE(check.output.find(": revoked"), std::string::npos) << check.output;
  EXPECT_NE(check.output.find("Reason: keyCompromise"), std::string::npos)
      << check.output;
}

TEST_F(PkiTest, NonceIsEchoedAndNotCached) {
  auto c = Issue("nonce.example");
  auto r = PostOcsp(OcspRequest(c.serial, /*nonce=*/true));
  ASSERT_EQ(r.status, 200);
  std::string path = WriteFile("nonce.der", r.body);
  auto text = Command({"openssl", "ocsp", "-respin", path, "-resp_text", "-noverify"});
  auto ext = text.output.find("Response Extensions:");
  ASSERT_NE(ext, std::string::npos) << text.output;
  EXPECT_NE(text.output.find("OCSP Nonce", ext), std::string::npos) << text.output;
  // Answered live, kept nowhere.
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ocsp_response_cache"), "0");
  EXPECT_EQ(app_->ocsp().MemoryEntries(), 0u);
}

}  // namespace
}  // namespace certctl::testing
