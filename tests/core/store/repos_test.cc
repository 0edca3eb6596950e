#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/store/database.h"
#include "certctl/util/time_format.h"
#include "store/certificate_repo.h"
#include "store/crl_repo.h"
#include "store/issuer_repo.h"
#include "store/session.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using testing::Sql;
using testing::TrySql;

class ReposTest : public testing::DatabaseTest {
 protected:
  void SetUp() override {
    DatabaseTest::SetUp();
    auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
    ASSERT_TRUE(ca.ok());
    gen_.issuer_id = "iss-local";
    gen_.generation = 1;
    gen_.cert_pem = CertificateToPem(ca->cert.get());
    gen_.cert_sha256 = FingerprintSha256(ca->cert.get());
    gen_.key_path = "/etc/certctl/ca.key";
    gen_.subject = SubjectOf(ca->cert.get());
    gen_.not_before = NotBefore(ca->cert.get());
    gen_.not_after = NotAfter(ca->cert.get());
    ASSERT_TRUE(db().Run([&](Transaction& tx) -> Status {
                      ASSIGN_OR_RETURN(bool created,
                                       IssuerRepo::Ensure(tx, "iss-local", "Local"));
                      EXPECT_TRUE(created);
                      return IssuerRepo::InsertGeneration(tx, gen_);
                    })
                    .ok());
  }

  CertificateRecord Cert(const std::string& serial) {
    CertificateRecord c;
    c.issuer_id = "iss-local";
    c.serial = serial;
    c.generation = 1;
    c.subject = "CN=" + serial;
    c.sans = {"DNS:" + serial + ".example", "IP:10.0.0.1"};
    c.not_before = std::chrono::system_clock::now();
    c.not_after = c.not_before + std::chrono::hours(24);
    c.cert_der = std::string("\x30\x00\x01", 3);
    c.issued_by = "test";
    return c;
  }

  Status Insert(const CertificateRecord& c) {
    return db().Run([&](Transaction& tx) { return CertificateRepo::Insert(tx, c); });
  }

  CaGenerationRecord gen_;
};

TEST_F(ReposTest, IssuerAndGeneration) {
  auto active = db().Query<std::optional<CaGenerationRecord>>(
      [](Transaction& tx) { return IssuerRepo::ActiveGeneration(tx, "iss-local"); });
  ASSERT_TRUE(active.ok());
  ASSERT_TRUE(active->has_value());
  EXPECT_EQ((*active)->cert_sha256, gen_.cert_sha256);
  EXPECT_EQ((*active)->state, GenerationState::kActive);
  EXPECT_EQ(ToUnixSeconds((*active)->not_after), ToUnixSeconds(gen_.not_after));
  // Ensure is idempotent.
  auto again = db().Query<bool>(
      [](Transaction& tx) { return IssuerRepo::Ensure(tx, "iss-local", "Local"); });
  EXPECT_FALSE(*again);
  // A second active generation is refused by the schema.
  CaGenerationRecord second = gen_;
  second.generation = 2;
  second.cert_sha256 = std::string(64, 'a');
  Status s =
      db().Run([&](Transaction& tx) { return IssuerRepo::InsertGeneration(tx, second); });
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  // Bad issuer ids are refused by the schema.
  EXPECT_FALSE(
      TrySql(url_, "INSERT INTO issuers (id, display_name) VALUES ('Bad Id', 'x')").ok());
}

TEST_F(ReposTest, CrlNumbersOnlyIncrease) {
  auto n1 = db().Query<int64_t>(
      [](Transaction& tx) { return IssuerRepo::NextCrlNumber(tx, "iss-local", 1); });
  auto n2 = db().Query<int64_t>(
      [](Transaction& tx) { return IssuerRepo::NextCrlNumber(tx, "iss-local", 1); });
  EXPECT_EQ(*n1, 1);
  EXPECT_EQ(*n2, 2);
  Status down = TrySql(url_, "UPDATE crl_numbers SET last_number = 1");
  EXPECT_FALSE(down.ok());
  EXPECT_NE(down.message().find("must increase"), std::string::npos);
}

// "Does not exist" is NotFound (exit 1 / HTTP 404), not an internal error.
TEST_F(ReposTest, MissingRowsAreNotFoundNotInternal) {
  auto epoch = db().Query<int64_t>(
      [](Transaction& tx) { return IssuerRepo::BumpRevocationEpoch(tx, "iss-nope"); });
  EXPECT_EQ(epoch.status().code(), StatusCode::kNotFound) << epoch.status().ToString();
  auto number = db().Query<int64_t>(
      [](Transaction& tx) { return IssuerRepo::NextCrlNumber(tx, "iss-local", 9); });
  EXPECT_EQ(number.status().code(), StatusCode::kNotFound) << number.status().ToString();
  auto above = db().Query<int64_t>(
      [](Transaction& tx) { return CrlRepo::ReserveNumberAbove(tx, "iss-nope", 1, 5); });
  EXPECT_EQ(above.status().code(), StatusCode::kNotFound) << above.status().ToString();
}

// A NUL in a text parameter would be cut off by libpq and match another row.
TEST_F(ReposTest, TextParametersWithANulAreRefused) {
  using namespace std::string_literals;
  auto found = db().Query<std::optional<IssuerRecord>>(
      [](Transaction& tx) { return IssuerRepo::Find(tx, "iss-local\0x"s); });
  EXPECT_EQ(found.status().code(), StatusCode::kInvalidArgument);
}

TEST(ConninfoTest, ConnectTimeoutGoesIntoTheConnectionString) {
  using std::chrono::seconds;
  EXPECT_EQ(ConninfoWithConnectTimeout("postgresql:///certctl?host=/run/pg", seconds(5)),
            "postgresql:///certctl?host=/run/pg&connect_timeout=5");
  EXPECT_EQ(ConninfoWithConnectTimeout("postgres://u@db/certctl", seconds(1)),
            "postgres://u@db/certctl?connect_timeout=2");
  EXPECT_EQ(ConninfoWithConnectTimeout("host=/tmp dbname=x", seconds(7)),
            "host=/tmp dbname=x connect_timeout=7");
  EXPECT_EQ(ConninfoWithConnectTimeout("host=db connect_timeout=30", seconds(7)),
            "host=db connect_timeout=30");
}

TEST_F(ReposTest, CertificateInsertFindAndDuplicate) {
  ASSERT_TRUE(Insert(Cert("abc1")).ok());
  EXPECT_EQ(Insert(Cert("abc1")).code(), StatusCode::kAlreadyExists);
  // Non-canonical serials never reach the table.
  EXPECT_EQ(Insert(Cert("00ABC1")).code(), StatusCode::kInvalidArgument);
  auto found = db().Query<std::optional<CertificateStatusRecord>>(
      [](Transaction& tx) { return CertificateRepo::Find(tx, "iss-local", "abc1"); });
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->certificate.sans.size(), 2u);
  EXPECT_EQ((*found)->certificate.sans[1], "IP:10.0.0.1");
  EXPECT_EQ((*found)->certificate.cert_der, std::string("\x30\x00\x01", 3));
  EXPECT_FALSE((*found)->revocation.has_value());
}

TEST_F(ReposTest, RevokeOnceAndStream) {
  for (const char* s : {"c3", "a1", "b2"}) ASSERT_TRUE(Insert(Cert(s)).ok());
  auto revoke = [&](const std::string& serial, int reason) {
    return db().Run([&](Transaction& tx) {
      return RevocationRepo::Insert(tx, {"iss-local", serial, 1, reason,
                                         std::chrono::system_clock::now(), "alice"});
    });
  };
  ASSERT_TRUE(revoke("c3", 1).ok());
  ASSERT_TRUE(revoke("a1", 4).ok());
  EXPECT_EQ(revoke("a1", 4).code(), StatusCode::kAlreadyExists);
  // Revoking a certificate that was never issued is refused by the schema.
  EXPECT_FALSE(revoke("dead", 1).ok());
  auto count = db().Query<int64_t>([](Transaction& tx) {
    return RevocationRepo::CountForGeneration(tx, "iss-local", 1);
  });
  EXPECT_EQ(*count, 2);
  std::vector<std::string> streamed;
  Status s = db().Run([&](Transaction& tx) {
    return RevocationRepo::ForEachInGeneration(
        tx, "iss-local", 1, [&](const RevocationRecord& r) {
          streamed.push_back(r.serial + ":" + std::to_string(r.reason));
          EXPECT_EQ(r.revoked_by, "alice");
          return Status::Ok();
        });
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(streamed, (std::vector<std::string>{"a1:4", "c3:1"}));
}

TEST_F(ReposTest, ListPagesAndFilters) {
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(Insert(Cert("f" + std::to_string(i))).ok());
  ASSERT_TRUE(db().Run([&](Transaction& tx) {
                    return RevocationRepo::Insert(
                        tx,
                        {"iss-local", "f2", 1, 0, std::chrono::system_clock::now(), "x"});
                  })
                  .ok());
  auto now = std::chrono::system_clock::now();
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto p = db().Query<CertificatePage>([&](Transaction& tx) {
      return CertificateRepo::List(
          tx, {.issuer = "iss-local", .limit = 2, .cursor = cursor}, now);
    });
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (auto& item : p->items) seen.push_back(item.certificate.serial);
    cursor = p->next_cursor;
    if (cursor.empty()) break;
  }
  EXPECT_EQ(seen.size(), 5u);
  auto revoked = db().Query<CertificatePage>([&](Transaction& tx) {
    return CertificateRepo::List(tx, {.status = CertificateStatusFilter::kRevoked}, now);
  });
  ASSERT_EQ(revoked->items.size(), 1u);
  EXPECT_EQ(revoked->items[0].certificate.serial, "f2");
  auto active = db().Query<CertificatePage>([&](Transaction& tx) {
    return CertificateRepo::List(tx, {.status = CertificateStatusFilter::kActive}, now);
  });
  EXPECT_EQ(active->items.size(), 4u);
  auto bad = db().Query<CertificatePage>(
      [&](Transaction& tx) { return CertificateRepo::List(tx, {.cursor = "!!!"}, now); });
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(RevocationReasonTest, NamesAndCodes) {
  EXPECT_EQ(*ParseRevocationReason("keyCompromise"), 1);
  EXPECT_EQ(*ParseRevocationReason("unspecified"), 0);
  EXPECT_EQ(*ParseRevocationReason("privilegeWithdrawn"), 9);
  EXPECT_FALSE(ParseRevocationReason("keycompromise").ok());
  EXPECT_FALSE(ParseRevocationReason("").ok());
  EXPECT_EQ(RevocationReasonName(5), "cessationOfOperation");
  EXPECT_EQ(RevocationReasonName(7), "unknown");
}

TEST_F(ReposTest, PoolRecoversAfterServerRestart) {
  // Open several connections so the pool holds idle ones that will go stale.
  std::vector<std::unique_ptr<Session>> sessions;
  for (int i = 0; i < 3; ++i)
    sessions.push_back(std::move(db().AcquireSession().value()));
  sessions.clear();
  EXPECT_EQ(db().Stats().open, 3);
  ASSERT_TRUE(testing::TestCluster::Get().Stop().ok());
  Status down = db().Ping();
  Status restarted = testing::TestCluster::Get().Start();
  ASSERT_TRUE(restarted.ok()) << restarted.ToString();
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_TRUE(db().Ping().ok());  // no dead connection is handed out again
  EXPECT_EQ(db().Stats().open, 1);
}

TEST(DatabaseTest, UnreachableServerIsUnavailableAndMasksPassword) {
  auto db =
      Database::Open({.url = "postgresql://u:hunter2@/x?host=/nonexistent-certctl"});
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace certctl
