// Routing, authentication and roles, JSON errors, listeners, metrics.
#include "daemon/router.h"

#include <gtest/gtest.h>

#include "daemon/daemon_fixture.h"

namespace certctl::testing {
namespace {

using daemon::ListenerKind;

class RouterTest : public DaemonTest {};

TEST_F(RouterTest, ApiNeedsABearerKey) {
  auto r = Get("/api/v1/issuers", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Bearer realm=\"certctl\"");
  EXPECT_EQ(Json(r)["error"]["code"], "unauthenticated");

  r = Get("/api/v1/issuers", "not-a-key");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Json(r)["error"]["code"], "unauthenticated");

  auto basic = Request("GET", "/api/v1/issuers");
  basic.headers.emplace_back("authorization", "Basic cm9vdDpyb290");
  EXPECT_EQ(Call(basic).status, 401);

  EXPECT_EQ(Get("/api/v1/issuers", kReaderKey).status, 200);
}

TEST_F(RouterTest, RolesDecideWhatAKeyMayDo) {
  // reader: GETs only.
  auto r = Post("/api/v1/certificates", R"({"csr": "x"})", kReaderKey);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json(r)["error"]["code"], "permission_denied");
  r = Post("/api/v1/certificates/abc/revoke", "{}", kReaderKey);
  EXPECT_EQ(r.status, 403);
  // operator: issue and revoke, not admin.
  r = Post("/api/v1/admin/trust-anchors/est/reload", "", kOperatorKey);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(Json(r)["error"]["message"].get<std::string>().find("needs admin"),
            std::string::npos);
  // admin: everything (unknown bundle name is then a 404, not a 403).
  r = Post("/api/v1/admin/trust-anchors/est/reload", "", kAdminKey);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r)["error"]["code"], "not_found");
  // Nothing was issued or revoked by the refused calls.
  EXPECT_EQ(Count("certificates"), 0);
}

// The API takes JSON: a body declared as anything else is 415 on every API
// POST and reaches no handler; without a Content-Type it is read as JSON.
TEST_F(RouterTest, ApiBodiesMustBeJson) {
  const std::string revoke =
      "/api/v1/certificates/" + Issue("c.example").serial + "/revoke";
  const std::string issue = R"({"generate_key": true, "common_name": "c.example"})";
  struct Case {
    std::string target, body, key, type;
    int status;
  } cases[] = {
      {"/api/v1/certificates", issue, kOperatorKey, "text/plain", 415},
      {"/api/v1/certificates", issue, kOperatorKey, "application/x-www-form-urlencoded",
       415},
      {revoke, R"({"reason": "keyCompromise"})", kOperatorKey, "text/plain", 415},
      {"/api/v1/admin/trust-anchors/est/reload", "{}", kAdminKey, "multipart/form-data",
       415},
      // An empty body has no type to check; authentication comes first.
      {"/api/v1/admin/trust-anchors/est/reload", "", kAdminKey, "text/plain", 404},
      {"/api/v1/certificates", issue, "", "text/plain", 401},
  };
  for (const auto& c : cases) {
    auto req = Request("POST", c.target, c.key, c.body);
    req.headers.emplace_back("content-type", c.type);
    auto r = Call(req);
    EXPECT_EQ(r.status, c.status) << c.target << " " << c.type << ": " << r.body;
    if (c.status == 415) {
      EXPECT_EQ(Json(r)["error"]["code"], "unsupported_media_type");
    }
  }
  EXPECT_EQ(Count("certificates"), 1);
  EXPECT_EQ(Count("certificate_revocations"), 0);
  auto untyped = Request("POST", "/api/v1/certificates", kOperatorKey, issue);
  EXPECT_EQ(Call(untyped).status, 201);
}

TEST_F(RouterTest, UnknownPathsAndMethods) {
  auto r = Get("/api/v1/nothing-here");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json(r)["error"]["code"], "not_found");
  r = Call(Request("DELETE", "/api/v1/issuers", kAdminKey));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "GET, HEAD");
  r = Call(Request("GET", "/.well-known/pki/ocsp/iss-local"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
}

TEST_F(RouterTest, PkiListenerServesOnlyWellKnownPki) {
  EXPECT_EQ(Call(Request("GET", "/healthz", "", "", ListenerKind::kPki)).status, 404);
  EXPECT_EQ(Call(Request("GET", "/metrics", "", "", ListenerKind::kPki)).status, 404);
  EXPECT_EQ(
      Call(Request("GET", "/api/v1/issuers", kAdminKey, "", ListenerKind::kPki)).status,
      404);
  auto crl =
      Call(Request("GET", "/.well-known/pki/crl/iss-local", "", "", ListenerKind::kPki));
  EXPECT_EQ(crl.status, 200) << crl.body;
  // The API listener serves the PKI paths too.
  EXPECT_EQ(Get("/.well-known/pki/crl/iss-local", "").status, 200);
}

TEST_F(RouterTest, HealthReadinessAndMetrics) {
  auto r = Get("/healthz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["status"], "ok");
  r = Get("/readyz", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json(r)["ready"], true);

  app_->readiness().SetDatabaseUp(false);
  r = Get("/readyz", "");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Json(r)["database"], "down");
  app_->readiness().SetDatabaseUp(true);
  app_->readiness().SetCaLoaded(false);
  EXPECT_EQ(Get("/readyz", "").status, 503);
  app_->readiness().SetCaLoaded(true);

  r = Get("/metrics", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(
      r.body.find("certctl_http_requests_total{endpoint=\"readyz\",status=\"503\"} 2"),
      std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("certctl_db_pool_connections{state=\"max\"} 4"),
            std::string::npos)
      << r.body;
}

TEST_F(RouterTest, EndpointNames) {
  EXPECT_EQ(daemon::EndpointName("POST", "/.well-known/pki/ocsp/iss-local"), "ocsp_post");
  EXPECT_EQ(daemon::EndpointName("GET", "/.well-known/pki/ocsp/iss-local/MEUw/Q+x=="),
            "ocsp_get");
  EXPECT_EQ(daemon::EndpointName("GET", "/.well-known/pki/ocsp/iss-local/serial/0a"),
            "ocsp_serial");
  EXPECT_EQ(daemon::EndpointName("HEAD", "/.well-known/pki/crl/iss-local/1"), "crl");
  EXPECT_EQ(daemon::EndpointName("POST", "/api/v1/certificates/ab/revoke"), "api_revoke");
  EXPECT_EQ(daemon::EndpointName("GET", "/api/v1/certificates/"), "not_found");
}

// What handlers receive: canonical parameters, or the request is refused.
// No database needed (the router fuzz target checks the same on any input).
TEST(MatchRoute, ParametersAreCanonicalOrRefused) {
  auto m = daemon::MatchRoute("GET", "/.well-known/pki/ocsp/iss%2Dlocal/serial/%30A:1b");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->endpoint, "ocsp_serial");
  EXPECT_EQ(m->params.at("issuer"), "iss-local");
  EXPECT_EQ(m->params.at("serial"), "a1b");

  m = daemon::MatchRoute("HEAD", "/.well-known/pki/crl/iss-local/7");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->params.at("generation"), "7");

  // The OCSP GET payload stays raw: DecodeOcspGetRequest decodes it.
  m = daemon::MatchRoute("GET", "/.well-known/pki/ocsp/iss-local/MEUw%2FQ+x==");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->params.at("request"), "MEUw%2FQ+x==");

  for (const char* path :
       {"/.well-known/pki/ocsp/iss-local%00x/serial/1a",
        "/.well-known/pki/ocsp/ISS-LOCAL/serial/1a",
        "/.well-known/pki/ocsp/iss-local/serial/1a%0a",
        "/.well-known/pki/crl/iss-local/01", "/.well-known/pki/crl/iss-local/1000001",
        "/api/v1/admin/trust-anchors/%ff/reload"}) {
    const char* method =
        std::string_view(path).find("reload") == std::string_view::npos ? "GET" : "POST";
    m = daemon::MatchRoute(method, path);
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << path;
  }
  EXPECT_EQ(daemon::MatchRoute("DELETE", "/api/v1/issuers").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(daemon::MatchRoute("GET", "/nowhere").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace certctl::testing
