// Hostile OCSP requests against the real PKI listener, one row per request
// class: nonces (RFC 9654), CertID hash algorithms, critical extensions
// (RFC 6960 §4.4), many CertIDs, malformed, oversized and truncated bodies,
// content types, the GET form, a NUL in the issuer id. Each row asserts the
// HTTP status, the OCSP answer, and that nothing changed; the control row
// shows a plain request being cached once.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/encoding.h"
#include "certctl/util/identifiers.h"
#include "daemon/hostile_input_fixture.h"
#include "support/test_pki.h"

namespace certctl::testing {
namespace {

TEST_F(HostileInputTest, OcspRequests) {
  auto good = Serial::Parse(Issue("good.example").serial);
  ASSERT_TRUE(good.ok());
  const std::string plain = OcspRequest({*good});
  // The responder exists before the rows: its bootstrap (audited) is not
  // what a row's input changes.
  {
    auto ctx = Context();
    ops::OpReport bootstrap;
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, bootstrap).ok());
  }
  const std::string path = "/.well-known/pki/ocsp/iss-local";
  const std::string ocsp_type = "Content-Type: application/ocsp-request";
  auto post = [&](const std::string& body, const std::string& type,
                  std::optional<size_t> length = std::nullopt,
                  const std::string& to = "") {
    std::vector<std::string> headers;
    if (!type.empty()) headers.push_back(type);
    return HttpRequestBytes("POST", to.empty() ? path : to, headers, body, length);
  };
  auto get = [&](const std::string& request) {
    return HttpRequestBytes("GET", path + "/" + request, {}, "");
  };
  auto many = [&](int n) { return OcspRequest(std::vector<Serial>(n, *good)); };
  const std::string thousand = many(1000);
  struct Row {
    std::string name;
    std::string bytes;
    Ending ending = Ending::kWhole;
    int http = 200;         // 0: closed without an answer
    int ocsp = -1;          // OCSPResponseStatus when http is 200
    size_t good_count = 0;  // "good" SingleResponses when successful
    size_t nonce_size = 0;  // the echoed nonce's size
    int cached = 0;         // answers added to each cache (the control row)
  };
  const std::vector<Row> rows = {
      {"control: a plain request is answered and cached once", post(plain, ocsp_type),
       Ending::kWhole, 200, 0, 1, 0, 1},
      // RFC 9654 §2.1: Nonce ::= OCTET STRING (SIZE(1..128)); echoed, never cached.
      {"0-octet nonce", post(OcspRequestWithNonce(plain, 0), ocsp_type), {}, 200, 1},
      {"1-octet nonce",
       post(OcspRequestWithNonce(plain, 1), ocsp_type),
       {},
       200,
       0,
       1,
       1},
      {"16-octet nonce",
       post(OcspRequestWithNonce(plain, 16), ocsp_type),
       {},
       200,
       0,
       1,
       16},
      {"32-octet nonce",
       post(OcspRequestWithNonce(plain, 32), ocsp_type),
       {},
       200,
       0,
       1,
       32},
      {"33-octet nonce",
       post(OcspRequestWithNonce(plain, 33), ocsp_type),
       {},
       200,
       0,
       1,
       33},
      {"128-octet nonce",
       post(OcspRequestWithNonce(plain, 128), ocsp_type),
       {},
       200,
       0,
       1,
       128},
      {"129-octet nonce", post(OcspRequestWithNonce(plain, 129), ocsp_type), {}, 200, 1},
      {"4000-octet nonce",
       post(OcspRequestWithNonce(plain, 4000), ocsp_type),
       {},
       200,
       1},
      // CertIDs certctl cannot match to its issuer: never "good".
      {"MD5 CertID", post(OcspRequest({*good}, EVP_md5()), ocsp_type), {}, 200, 6},
      {"SHA3-256 CertID",
       post(OcspRequest({*good}, EVP_sha3_256()), ocsp_type),
       {},
       200,
       6},
      {"CertID hashed with an OID that names no digest",
       post(WithUnknownHashOid(plain), ocsp_type),
       {},
       200,
       6},
      // Unknown critical extensions (RFC 6960 §4.4); non-critical ones are ignored.
      {"unknown critical request extension",
       post(OcspRequestWithExtension(plain, kPrivateOid, true, false, kAsn1Null),
            ocsp_type),
       {},
       200,
       1},
      {"unknown critical CertID extension",
       post(OcspRequestWithExtension(plain, kPrivateOid, true, true, kAsn1Null),
            ocsp_type),
       {},
       200,
       1},
      {"unknown non-critical extensions (answered from the cache)",
       post(OcspRequestWithExtension(
                OcspRequestWithExtension(plain, kPrivateOid, false, false, kAsn1Null),
                kPrivateOid, false, true, kAsn1Null),
            ocsp_type),
       {},
       200,
       0,
       1},
      // Many CertIDs: 64 answered (not cached), 65 refused, 1000 over the body limit.
      {"64 CertIDs", post(many(64), ocsp_type), {}, 200, 0, 64},
      {"65 CertIDs", post(many(65), ocsp_type), {}, 200, 1},
      {"1000 CertIDs (" + std::to_string(thousand.size()) + " octets)",
       post(thousand, ocsp_type),
       {},
       413},
      // Bodies.
      {"not DER", post("hello", ocsp_type), {}, 200, 1},
      {"empty body", post("", ocsp_type), {}, 200, 1},
      {"trailing bytes", post(plain + "x", ocsp_type), {}, 200, 1},
      {"truncated DER", post(plain.substr(0, plain.size() / 2), ocsp_type), {}, 200, 1},
      {"body over 64 KiB, announced", post("", ocsp_type, 64 * 1024 + 1), {}, 413},
      {"body over 64 KiB, chunked",
       HttpRequestBytes("POST", path, {ocsp_type, "Transfer-Encoding: chunked"},
                        ChunkedBody(64 * 1024 + 1)),
       {},
       413},
      {"body shorter than announced, client closes",
       post(plain, ocsp_type, plain.size() + 10), Ending::kHalfClose, 400},
      {"body shorter than announced, client stalls",
       post(plain, ocsp_type, plain.size() + 10), Ending::kStall, 0},
      // Content types.
      {"text/plain", post(plain, "Content-Type: text/plain"), {}, 415},
      {"application/json", post(plain, "Content-Type: application/json"), {}, 415},
      {"form (curl --data)",
       post(plain, "Content-Type: application/x-www-form-urlencoded"),
       {},
       415},
      {"no Content-Type (some clients send none)", post(plain, ""), {}, 200, 0, 1},
      // The GET form, and the issuer in the path.
      {"GET with a critical extension",
       get(Base64Encode(
           OcspRequestWithExtension(plain, kPrivateOid, true, false, kAsn1Null))),
       {},
       200,
       1},
      {"GET that is not base64", get("%%%"), {}, 200, 1},
      {"GET of 20 KB", get(std::string(20000, 'A')), {}, 431},
      {"issuer id with a NUL",
       post(plain, ocsp_type, std::nullopt, path + "%00x"),
       {},
       400},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.name);
    State before = Now();
    Answer a = Exchange(false, row.bytes, row.ending);
    ASSERT_EQ(a.status, row.http) << a.head << "\n" << Printable(a.body, 300);
    if (row.http == 200) {
      auto parsed = ParseOcspResponse(a.body);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
      EXPECT_EQ(parsed->response_status, row.ocsp);
      EXPECT_EQ(parsed->singles.size(), row.good_count);
      for (const auto& single : parsed->singles) {
        EXPECT_EQ(single.status, OcspCertStatus::kGood);
      }
      EXPECT_EQ(parsed->nonce ? parsed->nonce->size() : 0, row.nonce_size);
      if (parsed->response_status == 0) {
        EXPECT_TRUE(VerifyOcspResponse(*parsed, ca_.get()).ok());
      }
    }
    State expected = before;
    expected.cached_rows += row.cached;
    expected.cached_in_memory += static_cast<size_t>(row.cached);
    EXPECT_EQ(Now(), expected);
  }
}

}  // namespace
}  // namespace certctl::testing
