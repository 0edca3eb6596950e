#include "daemon/connections.h"

#include <vector>

namespace certctl::daemon {

uint64_t Connections::Add(std::weak_ptr<SessionControl> session) {
  std::lock_guard lock(mu_);
  uint64_t id = ++next_;
  sessions_.emplace(id, std::move(session));
  return id;
}

void Connections::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

size_t Connections::Open() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void Connections::StopIdle() {
  std::vector<std::weak_ptr<SessionControl>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : sessions_) all.push_back(s);
  }
  // Outside the lock: a session that dies here removes itself.
  for (auto& weak : all) {
    if (auto s = weak.lock()) s->StopIfIdle();
  }
}

}  // namespace certctl::daemon
