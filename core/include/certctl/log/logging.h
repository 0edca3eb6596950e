// Logger construction. Code receives a std::shared_ptr<spdlog::logger> and
// never reaches for a global one, so tests can capture what is logged.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "certctl/util/status.h"

namespace certctl {

enum class LogFormat { kText, kJson };

Result<LogFormat> ParseLogFormat(std::string_view name);  // "text" | "json"

// A logger writing to stderr. Text: "2026-11-27T17:00:00.123Z info certctld: msg",
// where control characters and bytes that are not valid UTF-8 in the message
// are written as \xNN, so that no message (which may quote a request) can
// start a forged line of its own.
// JSON: one object per line {"ts":..., "level":..., "logger":..., "msg":...}.
// `level` is trace, debug, info, warn or error.
Result<std::shared_ptr<spdlog::logger>> MakeLogger(const std::string& name,
                                                   LogFormat format,
                                                   const std::string& level);

// A logger that discards everything (tools and tests that do not care).
std::shared_ptr<spdlog::logger> NullLogger();

// Formatters; exposed so tests can attach them to their own sink.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();
std::unique_ptr<spdlog::formatter> MakeTextFormatter();

// The message with control characters (C0, DEL) and invalid UTF-8 bytes
// written as \xNN and '\' doubled; valid non-ASCII UTF-8 is kept.
std::string EscapeLogText(std::string_view message);

// Bounds how often one kind of log line is written (e.g. errors caused by
// requests): at most `burst` lines per `window`; the lines refused meanwhile
// are counted and reported by the next line allowed. Thread-safe.
class LogRateLimiter {
 public:
  LogRateLimiter(int burst, std::chrono::steady_clock::duration window)
      : burst_(burst), window_(window) {}
  // True when a line may be written now; `suppressed` is set to the number
  // of lines refused since the last allowed one (to mention in that line).
  bool Allow(uint64_t& suppressed);

 private:
  std::mutex mu_;
  const int burst_;
  const std::chrono::steady_clock::duration window_;
  std::chrono::steady_clock::time_point window_start_{};
  int used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace certctl
