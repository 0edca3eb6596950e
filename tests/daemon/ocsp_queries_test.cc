// The statements certctld's OCSP paths send to PostgreSQL, counted with
// pg_stat_statements (issue 13): none for whatever is answered from memory
// (an answer, or a status with the issuer's material: nonce requests and
// /serial included), at most one read for the first request for a serial,
// the write-back batched off the request path. Counts, not timings: they are
// the functional side of the OCSP benchmarks (bench/).
#include <gtest/gtest.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/encoding.h"
#include "daemon/daemon_fixture.h"
#include "daemon/schedulers/invalidation_watcher.h"
#include "support/eventually.h"

namespace certctl::testing {
namespace {

class OcspQueriesTest : public DaemonTest {
 protected:
  void SetUp() override {
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    Sql(url_, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    auto ca = LoadCertificateFile(ca_cert_path_);
    ASSERT_TRUE(ca.ok());
    ca_ = std::move(ca).value();
  }

  // The statements of this test's database since the last call (BEGIN and
  // COMMIT each count), without this fixture's own and without the batched
  // write-back, which is counted apart (WriteBacks).
  int64_t Statements() {
    app_->ocsp().FlushWriteBacks();
    std::string in_this_database =
        "dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND "
        "query NOT LIKE '%pg_stat_statements%'";
    int64_t n = std::stoll(Sql(url_,
                               "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                               "WHERE " +
                                   in_this_database +
                                   " AND query NOT LIKE '%INSERT INTO "
                                   "ocsp_response_cache%'"));
    write_backs_ = std::stoll(Sql(url_,
                                  "SELECT coalesce(sum(calls), 0) FROM "
                                  "pg_stat_statements WHERE " +
                                      in_this_database +
                                      " AND query LIKE '%INSERT INTO "
                                      "ocsp_response_cache%'"));
    Sql(url_, "SELECT pg_stat_statements_reset()");
    return n;
  }

  std::string Request(const std::string& serial, bool nonce = false) {
    auto parsed = Serial::Parse(serial);
    EXPECT_TRUE(parsed.ok());
    auto der = MakeOcspRequestDer(
        ca_.get(), {*parsed}, nullptr,
        nonce ? std::optional<std::string>("nonce-" + serial) : std::nullopt);
    EXPECT_TRUE(der.ok()) << der.status().ToString();
    return der.ok() ? *der : "";
  }
  // The single answer's status ("good", "revoked", "unknown"; "" on failure).
  std::string StatusOf(const daemon::HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    auto parsed = ParseOcspResponse(r.body);
    if (!parsed.ok() || parsed->response_status != 0 || parsed->singles.size() != 1) {
      ADD_FAILURE() << "not a successful OCSP answer";
      return "";
    }
    EXPECT_TRUE(VerifyOcspResponse(*parsed, ca_.get()).ok());
    return std::string(OcspCertStatusName(parsed->singles[0].status));
  }
  daemon::HttpResponse Post(const std::string& der) {
    auto req = DaemonTest::Request("POST", "/.well-known/pki/ocsp/iss-local", "", der,
                                   daemon::ListenerKind::kPki);
    req.headers.emplace_back("content-type", "application/ocsp-request");
    return Call(req);
  }
  daemon::HttpResponse GetOcsp(const std::string& der) {
    std::string encoded;
    for (char ch : Base64Encode(der)) {
      encoded += ch == '/'   ? "%2F"
                 : ch == '+' ? "%2B"
                 : ch == '=' ? "%3D"
                             : std::string(1, ch);
    }
    return Call(DaemonTest::Request("GET", "/.well-known/pki/ocsp/iss-local/" + encoded,
                                    "", "", daemon::ListenerKind::kPki));
  }
  daemon::HttpResponse BySerial(const std::string& serial) {
    return Call(DaemonTest::Request("GET",
                                    "/.well-known/pki/ocsp/iss-local/serial/" + serial,
                                    "", "", daemon::ListenerKind::kPki));
  }

  UniquePtr<X509> ca_;
  int64_t write_backs_ = 0;
};

TEST_F(OcspQueriesTest, AnswersAndStatusesInMemoryCostNoQuery) {
  auto warm = Issue("warm.example");
  auto known = Issue("known.example");
  // The issuer's material (generations, responder bootstrap) loads once.
  EXPECT_EQ(StatusOf(GetOcsp(Request(warm.serial))), "good");
  EXPECT_EQ(StatusOf(GetOcsp(Request(known.serial))), "good");
  Statements();

  EXPECT_EQ(StatusOf(GetOcsp(Request(known.serial))), "good");
  EXPECT_EQ(Statements(), 0) << "cached GET";
  EXPECT_EQ(StatusOf(Post(Request(known.serial))), "good");
  EXPECT_EQ(Statements(), 0) << "cached POST";
  EXPECT_EQ(StatusOf(Post(Request(known.serial, /*nonce=*/true))), "good");
  EXPECT_EQ(Statements(), 0) << "POST with a nonce, status in memory";
  EXPECT_EQ(StatusOf(BySerial(known.serial)), "good");
  EXPECT_EQ(Statements(), 0) << "/serial";
  EXPECT_EQ(write_backs_, 0);
}

TEST_F(OcspQueriesTest, AFirstRequestForASerialIsOneReadAndAWriteBackOffThePath) {
  auto warm = Issue("warm.example");
  auto fresh = Issue("fresh.example");
  auto nonce_first = Issue("nonce.example");
  auto by_serial = Issue("serial.example");
  EXPECT_EQ(StatusOf(GetOcsp(Request(warm.serial))), "good");
  Statements();

  EXPECT_EQ(StatusOf(Post(Request(fresh.serial))), "good");
  EXPECT_LE(Statements(), 1) << "first POST for a serial";
  EXPECT_EQ(write_backs_, 1);
  EXPECT_EQ(StatusOf(Post(Request(nonce_first.serial, /*nonce=*/true))), "good");
  EXPECT_LE(Statements(), 1) << "first nonce POST for a serial";
  EXPECT_EQ(write_backs_, 0);
  EXPECT_EQ(StatusOf(Post(Request(nonce_first.serial, /*nonce=*/true))), "good");
  EXPECT_EQ(Statements(), 0) << "second nonce POST for a serial";
  EXPECT_EQ(StatusOf(BySerial(by_serial.serial)), "good");
  EXPECT_LE(Statements(), 1) << "first /serial for a serial";
  EXPECT_EQ(StatusOf(BySerial(by_serial.serial)), "good");
  EXPECT_EQ(Statements(), 0) << "second /serial";
  // Written back: warm, fresh and by_serial (nonce answers are not kept).
  EXPECT_EQ(Count("ocsp_response_cache"), 3);
}

// What memory holds never outlives a revocation: the statuses behind nonce
// answers are dropped with the answers.
TEST_F(OcspQueriesTest, ARevocationIsSeenByNonceAnswersFromMemoryAtOnce) {
  auto leaf = Issue("revoked.example");
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "good");
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "good");
  Statements();
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "good");
  EXPECT_EQ(Statements(), 0);
  auto revoked = DaemonTest::Post("/api/v1/certificates/" + leaf.serial + "/revoke",
                                  R"({"reason": "keyCompromise"})");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "revoked");
  EXPECT_EQ(StatusOf(GetOcsp(Request(leaf.serial))), "revoked");
  EXPECT_EQ(StatusOf(BySerial(leaf.serial)), "revoked");
}

// Without its invalidation feed (certctld's LISTEN connection down), a
// replica could miss a revocation: then statuses in memory sign nothing alone.
TEST_F(OcspQueriesTest, StatusesInMemorySignNothingWhileInvalidationsGoUnheard) {
  auto leaf = Issue("unheard.example");
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "good");
  Statements();
  app_->ocsp().SetInvalidationsHeard(false);
  // Another replica's revocation, whose notification this one did not hear.
  Sql(url_,
      "INSERT INTO certificate_revocations (issuer_id, serial, generation, reason, "
      "revoked_at, revoked_by) SELECT issuer_id, serial, generation, 1, now(), 'other' "
      "FROM certificates WHERE serial = '" +
          leaf.serial + "'");
  Statements();
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "revoked");
  EXPECT_GE(Statements(), 1);
  app_->ocsp().SetInvalidationsHeard(true);
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "revoked");
  EXPECT_EQ(Statements(), 0);
}

// certctld serves requests before its first LISTEN takes effect: statuses
// read then may miss a revocation made before it listens, so the first
// connection drops them too (not only a reconnection).
TEST_F(OcspQueriesTest, StatusesReadBeforeTheFirstListenAreNotTrustedAfterIt) {
  auto leaf = Issue("before-listen.example");
  app_->ocsp().SetInvalidationsHeard(false);  // as before the watcher listens
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "good");
  // Revoked by another replica while this one does not listen yet.
  Sql(url_,
      "INSERT INTO certificate_revocations (issuer_id, serial, generation, reason, "
      "revoked_at, revoked_by) SELECT issuer_id, serial, generation, 1, now(), 'other' "
      "FROM certificates WHERE serial = '" +
          leaf.serial + "'");
  daemon::InvalidationWatcher watcher(*app_, nullptr);
  watcher.Start();
  ASSERT_TRUE(Eventually([&] { return watcher.listening(); }));
  EXPECT_EQ(StatusOf(Post(Request(leaf.serial, /*nonce=*/true))), "revoked");
  watcher.Stop();
}

}  // namespace
}  // namespace certctl::testing
