// One background thread of certctld: it runs a step, sleeps for as long as
// the step asks (or until woken or stopped) and runs it again. Each of the
// schedulers (CRL, maintenance, database monitor, invalidation watcher) is
// one of these plus its duties, so starting, waking and stopping are written
// once, here.
//
// Thread-safe. Stop() (also run by the destructor) returns once the thread
// has ended; a step in progress finishes first, so a step should not block
// for long without looking at stopping().
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace certctl::daemon {

class SchedulerThread {
 public:
  // One pass of the duties; returns how long to sleep before the next one
  // (zero or less: run again at once, after a look at Stop()).
  using Step = std::function<std::chrono::milliseconds()>;

  SchedulerThread() = default;
  ~SchedulerThread();
  SchedulerThread(const SchedulerThread&) = delete;
  SchedulerThread& operator=(const SchedulerThread&) = delete;

  // Starts the thread; its first step runs at once. Call at most once.
  void Start(Step step);
  // Ends the current sleep early (new work arrived); no effect on a step
  // that is running, except that the sleep after it is skipped.
  void Wake();
  // Asks the thread to end and waits until it has. Idempotent; fine when
  // Start() was never called.
  void Stop();
  bool stopping() const;
  // For a step that waits inside itself: sleeps up to `d`, or until Wake()
  // or Stop(). Returns false once Stop() was called.
  bool SleepFor(std::chrono::milliseconds d);

 private:
  void Run(const Step& step);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  bool woken_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace certctl::daemon
