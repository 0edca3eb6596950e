#include "certctl/ops/issuer_ops.h"

#include <gtest/gtest.h>

#include "certctl/pki/ca.h"
#include "certctl/store/issuer_repo.h"
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
  ASSERT_TRUE(
      ops::RegisterConfiguredCa(ctx, kLocalIssuerId, ca_cert_path_, ca_key_path_, report)
          .ok());
  EXPECT_FALSE(report.data["registered"].get<bool>());
  EXPECT_EQ(report.data["generation"].get<int>(), 1);
  EXPECT_EQ(Count("ca_generations"), 1);
}

TEST_F(IssuerOpsTest, FilesReplacedByHandAreRefusedNamingTheCommand) {
  auto other = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  std::string cert = *dir_ / "other.crt", key = *dir_ / "other.key";
  ASSERT_TRUE(WriteCaFiles(*other, cert, key).ok());
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RegisterConfiguredCa(ctx, kLocalIssuerId, cert, key, report);
  ASSERT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("Put the original files back"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("certctl-admin ca rotate iss-local"), std::string::npos)
      << s.message();
  // Until `ca rotate` exists the message must not send anyone to it blindly.
  EXPECT_NE(s.message().find("does not have yet"), std::string::npos) << s.message();
  EXPECT_EQ(Count("ca_generations"), 1);
}

TEST_F(IssuerOpsTest, InvalidCaIsRefusedWithTheReason) {
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RegisterConfiguredCa(ctx, "iss-new", ca_cert_path_,
                                       *dir_ / "missing.key", report);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("missing.key"), std::string::npos);
  EXPECT_EQ(Count("issuers"), 1);
}

}  // namespace
}  // namespace certctl
