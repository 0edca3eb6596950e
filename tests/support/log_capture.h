// A logger whose lines a test can look for while other threads write them.
#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <memory>
#include <string_view>

namespace certctl::testing {

class LogCapture {
 public:
  // Keeps the last `lines` lines at debug level and above.
  explicit LogCapture(size_t lines = 1000);
  const std::shared_ptr<spdlog::logger>& logger() const { return logger_; }
  // How many kept lines contain `text`. Thread-safe.
  int Count(std::string_view text) const;
  bool Contains(std::string_view text) const { return Count(text) > 0; }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace certctl::testing
