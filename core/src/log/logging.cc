#include "certctl/log/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <nlohmann/json.hpp>

#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"

namespace certctl {
namespace {

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  msg.time.time_since_epoch()) %
              1000;
    std::string ts = FormatRfc3339(msg.time);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms.count()));
    ts.insert(ts.size() - 1, frac);
    nlohmann::json line = {
        {"ts", ts},
        {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                              spdlog::level::to_string_view(msg.level).size())},
        {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
        {"msg", std::string(msg.payload.data(), msg.payload.size())},
    };
    std::string text =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The pattern formatter writes the prefix; the message is escaped here.
class TextFormatter final : public spdlog::formatter {
 public:
  TextFormatter()
      : prefix_("%Y-%m-%dT%H:%M:%S.%eZ %l %n: ", spdlog::pattern_time_type::utc, "") {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    prefix_.format(msg, dest);
    std::string text = EscapeLogText({msg.payload.data(), msg.payload.size()});
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>();
  }

 private:
  spdlog::pattern_formatter prefix_;
};

// Length of the valid UTF-8 sequence starting at text[i], 0 when invalid.
size_t Utf8SequenceAt(std::string_view text, size_t i) {
  for (size_t len = 2; len <= 4 && i + len <= text.size(); ++len) {
    if (IsValidUtf8(text.substr(i, len))) return len;
  }
  return 0;
}

}  // namespace

std::string EscapeLogText(std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size();) {
    auto c = static_cast<unsigned char>(message[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (size_t len = c >= 0x80 ? Utf8SequenceAt(message, i) : 0; len > 0) {
      out.append(message.substr(i, len));
      i += len;
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      ++i;
    }
  }
  return out;
}

bool LogRateLimiter::Allow(uint64_t& suppressed) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now - window_start_ >= window_) {
    window_start_ = now;
    used_ = 0;
  }
  if (used_ >= burst_) {
    ++suppressed_;
    return false;
  }
  ++used_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

std::unique_ptr<spdlog::formatter> MakeTextFormatter() {
  return std::make_unique<TextFormatter>();
}

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return Status::InvalidArgument("log format must be text or json, not \"" +
                                 std::string(name) + "\"");
}

std::unique_ptr<spdlog::formatter> MakeJsonFormatter() {
  return std::make_unique<JsonFormatter>();
}

Result<std::shared_ptr<spdlog::logger>> MakeLogger(const std::string& name,
                                                   LogFormat format,
                                                   const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level \"" + level + "\"");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  if (format == LogFormat::kJson) {
    logger->set_formatter(MakeJsonFormatter());
  } else {
    logger->set_formatter(MakeTextFormatter());
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  return logger;
}

std::shared_ptr<spdlog::logger> NullLogger() {
  static auto logger = std::make_shared<spdlog::logger>(
      "null", std::make_shared<spdlog::sinks::null_sink_mt>());
  return logger;
}

}  // namespace certctl
