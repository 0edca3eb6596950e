// Waiting for a condition in tests, instead of sleeping a fixed time.
#pragma once

#include <chrono>
#include <functional>

namespace certctl::testing {

// Calls `check` until it returns true or `limit` has passed, and returns
// whether it held. It sleeps between calls, 10 ms at first and longer (up to
// 100 ms) while the condition is slow to come, so that cheap checks are quick
// and expensive ones (a command line run) do not hog the machine. The limit
// only bounds a hang: this is never a timing assertion.
bool Eventually(const std::function<bool()>& check,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

}  // namespace certctl::testing
