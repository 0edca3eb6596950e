#include "certctl/log/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
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

TEST(LoggingTest, TextLinesCannotBeForgedOrBroken) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_formatter(MakeTextFormatter());
  spdlog::logger logger("certctld", sink);
  // What a request path may carry once percent-decoded.
  using namespace std::string_literals;
  logger.error("GET {} -> 404",
               "/x\n2026-11-27T17:00:00.000Z info certctld: forged\r\0\xff\x1b[31m"s);
  logger.info("Zoë's \\ CA");
  std::string text = out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  std::string first = text.substr(0, text.find('\n'));
  EXPECT_NE(first.find(" error certctld: GET /x\\x0a2026"), std::string::npos) << first;
  EXPECT_NE(first.find("forged\\x0d\\x00\\xff\\x1b[31m -> 404"), std::string::npos)
      << first;
  std::string second = text.substr(first.size() + 1);
  EXPECT_NE(second.find("info certctld: Zoë's \\\\ CA\n"), std::string::npos) << second;
}

TEST(LoggingTest, RateLimiterCountsWhatItSuppressed) {
  LogRateLimiter limiter(3, std::chrono::hours(1));
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.Allow(suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Allow(suppressed));
  // The first line of the next window reports how many were refused.
  LogRateLimiter short_window(1, std::chrono::milliseconds(20));
  EXPECT_TRUE(short_window.Allow(suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(short_window.Allow(suppressed));
  uint64_t refused = 5;
  while (!short_window.Allow(suppressed)) ++refused;
  EXPECT_EQ(suppressed, refused);
}

TEST(LoggingTest, FormatAndLevelAreChecked) {
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
  EXPECT_TRUE(MakeLogger("x", LogFormat::kText, "debug").ok());
  EXPECT_FALSE(MakeLogger("x", LogFormat::kText, "loud").ok());
}

}  // namespace
}  // namespace certctl
