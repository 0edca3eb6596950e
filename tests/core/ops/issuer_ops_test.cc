#include "certctl/ops/issuer_ops.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "certctl/pki/ca.h"
#include "store/issuer_repo.h"
#include "support/ops_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

class IssuerOpsTest : public testing::OpsTest {};

TEST_F(IssuerOpsTest, NewIssuerIsRegisteredAsGenerationOneAndAudited) {
  EXPECT_EQ(Sql(url_, "SELECT generation || ':' || state FROM ca_generations"),
            "1:active");
  EXPECT_EQ(
      Sql(url_, "SELECT count(*) FROM audit_events WHERE action = 'issuer.register'"),
      "1");
  EXPECT_EQ(Sql(url_, "SELECT last_number FROM crl_numbers"), "0");
}

TEST_F(IssuerOpsTest, SameCaAgainIsANoOp) {
  auto ctx = Context();
  ops::OpReport report;
  auto again =
      ops::RegisterConfiguredCa(ctx, kLocalIssuerId, ca_cert_path_, ca_key_path_, report);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->registered);
  EXPECT_EQ(again->generation, 1);
  EXPECT_EQ(Count("ca_generations"), 1);
}

// Two replicas starting at once on a fresh database: both succeed, one
// registers, the other finds its row (without the CA lock, one of them hit
// the primary key and failed to start).
TEST_F(IssuerOpsTest, ConcurrentRegistrationsOfANewIssuerBothSucceed) {
  for (int round = 0; round < 5; ++round) {
    auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
    ASSERT_TRUE(ca.ok());
    std::string cert = *dir_ / ("race" + std::to_string(round) + ".crt");
    std::string key = *dir_ / ("race" + std::to_string(round) + ".key");
    ASSERT_TRUE(WriteCaFiles(*ca, cert, key).ok());
    std::string issuer = "iss-race-" + std::to_string(round);
    std::atomic<int> ready{0};
    Status results[2];
    bool registered[2] = {false, false};
    auto start = [&](int i) {
      auto ctx = Context();
      ops::OpReport report;
      ++ready;
      while (ready.load() < 2) {
      }
      auto result = ops::RegisterConfiguredCa(ctx, issuer, cert, key, report);
      results[i] = result.status();
      registered[i] = result.ok() && result->registered;
    };
    std::thread a(start, 0), b(start, 1);
    a.join();
    b.join();
    EXPECT_TRUE(results[0].ok()) << results[0].ToString();
    EXPECT_TRUE(results[1].ok()) << results[1].ToString();
    EXPECT_NE(registered[0], registered[1]);
    EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ca_generations WHERE issuer_id = '" +
                            issuer + "'"),
              "1");
  }
}

TEST_F(IssuerOpsTest, FilesReplacedByHandAreRefusedNamingTheCommand) {
  auto other = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  std::string cert = *dir_ / "other.crt", key = *dir_ / "other.key";
  ASSERT_TRUE(WriteCaFiles(*other, cert, key).ok());
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RegisterConfiguredCa(ctx, kLocalIssuerId, cert, key, report).status();
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("is none of the CA generations of iss-local"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("Put back the files of one of its generations"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("certctl-admin ca rotate iss-local"), std::string::npos)
      << s.message();
  // `ca rotate` exists now: nothing says otherwise.
  EXPECT_EQ(s.message().find("does not have yet"), std::string::npos) << s.message();
  EXPECT_EQ(Count("ca_generations"), 1);
}

TEST_F(IssuerOpsTest, InvalidCaIsRefusedWithTheReason) {
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RegisterConfiguredCa(ctx, "iss-new", ca_cert_path_,
                                       *dir_ / "missing.key", report)
                 .status();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing.key"), std::string::npos);
  EXPECT_EQ(Count("issuers"), 1);
}

}  // namespace
}  // namespace certctl
