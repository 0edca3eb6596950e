#include "support/eventually.h"

#include <algorithm>
#include <thread>

namespace certctl::testing {

bool Eventually(const std::function<bool()>& check, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::chrono::milliseconds pause(10);
  while (!check()) {
    if (std::chrono::steady_clock::now() >= deadline) return check();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace certctl::testing
