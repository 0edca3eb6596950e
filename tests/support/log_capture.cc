#include "support/log_capture.h"

namespace certctl::testing {

LogCapture::LogCapture(size_t lines)
    : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(lines)),
      logger_(std::make_shared<spdlog::logger>("test", sink_)) {
  logger_->set_level(spdlog::level::debug);
}

int LogCapture::Count(std::string_view text) const {
  int n = 0;
  for (const auto& line : sink_->last_formatted()) {
    if (line.find(text) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace certctl::testing
