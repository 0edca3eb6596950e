#include "daemon/schedulers/scheduler_thread.h"

namespace certctl::daemon {

SchedulerThread::~SchedulerThread() { Stop(); }

void SchedulerThread::Start(Step step) {
  thread_ = std::thread([this, step = std::move(step)] { Run(step); });
}

void SchedulerThread::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SchedulerThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SchedulerThread::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

bool SchedulerThread::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [&] { return stopping_ || woken_; });
  woken_ = false;
  return !stopping_;
}

void SchedulerThread::Run(const Step& step) {
  while (!stopping()) {
    if (!SleepFor(step())) return;
  }
}

}  // namespace certctl::daemon
