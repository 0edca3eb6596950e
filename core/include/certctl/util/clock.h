// Clock seam: production code asks a Clock for the time so tests can pin it.
#pragma once

#include <chrono>
#include <mutex>

namespace certctl {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

// Whether `now` has reached the middle of [this_update, next_update]: the
// moment a cached CRL or OCSP answer is due to be signed again (it is still
// correct, and served, until next_update).
bool PastHalfLife(TimePoint this_update, TimePoint next_update, TimePoint now);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The wall clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance();
};

// A clock tests set by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(std::chrono::system_clock::duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void Set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
};

}  // namespace certctl
