#include "certctl/log/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace certctl {
namespace {

TEST(LoggingTest, JsonLinesAreOneParseableObjectPerMessage) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(MakeJsonFormatter());
  spdlog::logger logger("certctld", sink);
  logger.info("served \"{}\" in {} ms", "crl/iss-local", 3);
  logger.warn("second line\nwith a newline");
  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["msg"], "served \"crl/iss-local\" in 3 ms");
  EXPECT_EQ(parsed[0]["level"], "info");
  EXPECT_EQ(parsed[0]["logger"], "certctld");
  EXPECT_EQ(parsed[0]["ts"].get<std::string>().back(), 'Z');
  EXPECT_EQ(parsed[1]["msg"], "second line\nwith a newline");
}

TEST(LoggingTest, FormatAndLevelAreChecked) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_TRUE(MakeLogger("x", LogFormat::kText, "debug").ok());
  EXPECT_FALSE(MakeLogger("x", LogFormat::kText, "loud").ok());
}

}  // namespace
}  // namespace certctl
