#include "certctl/util/status.h"

#include <gtest/gtest.h>

#include "certctl/util/exit_codes.h"

namespace certctl {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("issuer iss-x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: issuer iss-x");
  EXPECT_EQ(s.WithContext("load").message(), "load: issuer iss-x");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(StatusTest, ResultFromOkStatusIsAnError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

// The exit codes every man page documents, one per kind of failure.
TEST(ExitCodesTest, EveryStatusCodeMapsToItsDocumentedExitCode) {
  const std::vector<std::pair<StatusCode, int>> table = {
      {StatusCode::kOk, 0},
      {StatusCode::kInvalidArgument, 2},
      {StatusCode::kNotFound, 2},
      {StatusCode::kAlreadyExists, 1},
      {StatusCode::kFailedPrecondition, 78},
      {StatusCode::kPermissionDenied, 78},
      {StatusCode::kUnauthenticated, 78},
      {StatusCode::kUnavailable, 69},
      {StatusCode::kBusy, 75},
      {StatusCode::kCorruption, 1},
      {StatusCode::kDeadlineExceeded, 69},
      {StatusCode::kConfiguration, 78},
      {StatusCode::kInternal, 70},
  };
  // The table covers every code of the enum (kInternal is the last).
  ASSERT_EQ(table.size(), static_cast<size_t>(StatusCode::kInternal) + 1);
  for (const auto& [code, exit_code] : table) {
    Status s = code == StatusCode::kOk ? Status::Ok() : Status(code, "x");
    EXPECT_EQ(ExitCodeFor(s), exit_code) << StatusCodeName(code);
  }
}

}  // namespace
}  // namespace certctl
