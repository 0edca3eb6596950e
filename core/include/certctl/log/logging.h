// Logger construction. Code receives a std::shared_ptr<spdlog::logger> and
// never reaches for a global one, so tests can capture what is logged.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>

#include "certctl/util/status.h"

namespace certctl {

enum class LogFormat { kText, kJson };

Result<LogFormat> ParseLogFormat(std::string_view name);  // "text" | "json"

// A logger writing to stderr. Text: "2026-11-27T17:00:00.123Z info certctld: msg".
// JSON: one object per line {"ts":..., "level":..., "logger":..., "msg":...}.
// `level` is trace, debug, info, warn or error.
Result<std::shared_ptr<spdlog::logger>> MakeLogger(const std::string& name,
                                                   LogFormat format,
                                                   const std::string& level);

// A logger that discards everything (tools and tests that do not care).
std::shared_ptr<spdlog::logger> NullLogger();

// A formatter for JSON lines; exposed so tests can attach it to their own sink.
std::unique_ptr<spdlog::formatter> MakeJsonFormatter();

}  // namespace certctl
