// Lets a background thread sleep until its next tick or until it is told to
// stop, whichever comes first. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace certctl::daemon {

class StopSignal {
 public:
  // Sleeps up to `d`, or until Wake() or Stop(). Returns false once Stop()
  // was called.
  template <class Rep, class Period>
  bool SleepFor(std::chrono::duration<Rep, Period> d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [&] { return stopped_ || woken_; });
    woken_ = false;
    return !stopped_;
  }
  // Ends the current sleep early (new work arrived).
  void Wake() {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    cv_.notify_all();
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  bool stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  bool woken_ = false;
};

}  // namespace certctl::daemon
