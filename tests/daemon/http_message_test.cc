#include "daemon/http_message.h"

#include <gtest/gtest.h>

#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"
#include "daemon/auth.h"
#include "daemon/metrics.h"

namespace certctl::daemon {
namespace {

TEST(HttpMessage, PathQueryAndHeaders) {
  HttpRequest r;
  r.target = "/api/v1/certificates?issuer=iss-local&limit=5";
  r.headers = {{"content-type", "application/json"}};
  EXPECT_EQ(r.Path(), "/api/v1/certificates");
  EXPECT_EQ(r.Query(), "issuer=iss-local&limit=5");
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("x-missing"), "");
}

TEST(HttpMessage, ContentTypeIsComparesTheMediaTypeOnly) {
  struct Case {
    std::optional<std::string> header;
    bool json;
  } cases[] = {
      {"application/json", true},
      {"Application/JSON", true},
      {"application/json; charset=utf-8", true},
      {" application/json ;charset=utf-8", true},
      {std::nullopt, true},  // absent: read as the route's type
      {"", true},
      {"application/jsonx", false},
      {"application/json-patch+json", false},
      {"text/plain", false},
      {"application/x-www-form-urlencoded", false},
      {"text/json", false},
  };
  for (const auto& c : cases) {
    HttpRequest r;
    if (c.header) r.headers = {{"content-type", *c.header}};
    EXPECT_EQ(r.ContentTypeIs("application/json"), c.json) << c.header.value_or("(none)");
  }
}

TEST(HttpMessage, ParseQueryDecodesAndKeepsPlus) {
  auto q =
      ParseQuery("since=2026-01-01T00%3A00%3A00%2B01:00&action=certificate.revoke&x=a+b");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ((*q)["since"], "2026-01-01T00:00:00+01:00");
  EXPECT_EQ((*q)["action"], "certificate.revoke");
  EXPECT_EQ((*q)["x"], "a+b");
}

TEST(HttpMessage, ParseQueryRefusesRepeatsAndBadEscapes) {
  EXPECT_EQ(ParseQuery("a=1&a=2").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseQuery("a=%zz").status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpMessage, ErrorsAreJsonWithStatusAndCode) {
  HttpResponse r = ErrorResponse(Status::NotFound("no certificate with serial ab"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["message"], "no certificate with serial ab");
  EXPECT_EQ(HttpStatusFor(StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(ErrorCodeName(StatusCode::kFailedPrecondition), "failed_precondition");
}

// A server-side failure's text (a PostgreSQL error, a file path, a library's
// message) stays in the server log; the client learns only what kind.
TEST(HttpMessage, ServerErrorsNeverCarryTheirDetailToTheClient) {
  const std::string pg_text =
      "insert certificate 1a2b: ERROR:  invalid byte sequence for encoding \"UTF8\": "
      "0xff";
  struct Case {
    Status status;
    int http;
    const char* code;
  } cases[] = {
      {Status::Internal(pg_text + " (SQLSTATE 22021)"), 500, "internal"},
      {Status::Corruption("cached CRL at /var/lib/certctl fails: " + pg_text), 500,
       "corruption"},
      {Status::Configuration("key file /etc/certctl/ca.key: " + pg_text), 500,
       "configuration"},
      {Status::Unavailable(
           "cannot connect to database postgresql://certctl@db.internal: " + pg_text),
       503, "unavailable"},
      {Status::DeadlineExceeded("select: canceling statement due to statement timeout"),
       504, "deadline_exceeded"},
  };
  for (const auto& c : cases) {
    HttpResponse r = ErrorResponse(c.status);
    EXPECT_EQ(r.status, c.http) << c.code;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], c.code);
    for (const char* secret : {"UTF8", "ERROR", "/var/lib", "/etc/certctl", "db.internal",
                               "statement timeout", "SQLSTATE"}) {
      EXPECT_EQ(r.body.find(secret), std::string::npos) << c.code << ": " << r.body;
    }
    // The whole story is kept for the log line the router writes.
    EXPECT_EQ(r.log_detail, c.status.ToString()) << c.code;
  }
  // Client errors still say exactly what was wrong.
  HttpResponse bad = ErrorResponse(Status::InvalidArgument("CN has 65 characters"));
  EXPECT_NE(bad.body.find("CN has 65 characters"), std::string::npos);
}

TEST(HttpMessage, HttpDateIsImfFixdate) {
  auto t = ParseRfc3339("1994-11-06T08:49:37Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(HttpDate(*t), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(Auth, RefusesMissingMalformedAndUnknownKeys) {
  std::vector<ApiKeyConfig> keys = {{"ci", ApiRole::kOperator, Sha256Hex("s3cret")}};
  EXPECT_EQ(Authenticate("", keys).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Authenticate("Basic czNjcmV0", keys).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Authenticate("Bearer ", keys).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Authenticate("Bearer s3cret2", keys).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Authenticate("Bearer s3cre", keys).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(Auth, FindsTheKeyAndChecksTheRole) {
  std::vector<ApiKeyConfig> keys = {{"ro", ApiRole::kReader, Sha256Hex("r")},
                                    {"ci", ApiRole::kOperator, Sha256Hex("s3cret")}};
  auto p = Authenticate("bearer  s3cret ", keys);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->key_name, "ci");
  EXPECT_EQ(p->role, ApiRole::kOperator);
  EXPECT_TRUE(Authorize(*p, ApiRole::kReader).ok());
  EXPECT_TRUE(Authorize(*p, ApiRole::kOperator).ok());
  Status denied = Authorize(*p, ApiRole::kAdmin);
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("needs admin"), std::string::npos) << denied.message();
}

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  m.CountRequest("ocsp_post", 200, std::chrono::milliseconds(5));
  m.CountRequest("ocsp_post", 200, std::chrono::milliseconds(5));
  m.CountOcspResponse("revoked", true);
  m.SetGauge("certctl_db_pool_connections", {{"state", "open"}}, 3);
  m.SetGauge("certctl_label_escape", {{"x", "a\"b\\c\nd"}}, 1);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE certctl_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(
      text.find("certctl_http_requests_total{endpoint=\"ocsp_post\",status=\"200\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          "certctl_http_request_duration_seconds_count{endpoint=\"ocsp_post\"} 2\n"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find("certctl_ocsp_responses_total{status=\"revoked\",cache=\"hit\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("certctl_db_pool_connections{state=\"open\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("{x=\"a\\\"b\\\\c\\nd\"}"), std::string::npos) << text;
  // Families without samples are left out.
  EXPECT_EQ(text.find("certctl_crl_size_bytes"), std::string::npos);
}

}  // namespace
}  // namespace certctl::daemon
