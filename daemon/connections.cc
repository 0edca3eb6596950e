#include "daemon/connections.h"

#include <vector>

#include "daemon/auth.h"

namespace certctl::daemon {
namespace {

const char* ListenerName(ListenerKind kind) {
  return kind == ListenerKind::kApi ? "api" : "pki";
}

}  // namespace

Connections::Connections(ConnectionLimits limits, Metrics& metrics)
    : limits_(limits), metrics_(metrics) {
  metrics_.SetGauge("certctl_connections_limit", {{"listener", "api"}},
                    static_cast<double>(limits_.api));
  metrics_.SetGauge("certctl_connections_limit", {{"listener", "pki"}},
                    static_cast<double>(limits_.pki));
  metrics_.SetGauge("certctl_connections_reserved", {{"listener", "api"}},
                    static_cast<double>(limits_.api_reserved));
  for (auto kind : {ListenerKind::kApi, ListenerKind::kPki}) {
    PublishOpen(kind, 0);
    PublishBusy(kind, 0);
  }
}

size_t Connections::Capacity(Pool pool) const {
  switch (pool) {
    case Pool::kPki:
      return limits_.pki;
    case Pool::kApi:  // (FitConnectionLimits and the config keep reserved < api)
      return limits_.api > limits_.api_reserved ? limits_.api - limits_.api_reserved : 0;
    case Pool::kApiReserved:
      return limits_.api_reserved;
  }
  return 0;
}

bool Connections::MakeRoom(Pool pool, std::shared_ptr<SessionControl>& victim) {
  // Which sessions go first: closing, then idle keep-alives, then those
  // awaiting a request; oldest first within each.
  auto rank = [](State s) {
    return s == State::kClosing ? 0 : s == State::kIdleKeepAlive ? 1 : 2;
  };
  Entry* best = nullptr;
  for (auto& [id, e] : sessions_) {
    if (e.pool != pool || e.shed || e.state == State::kBusy) continue;
    if (!best || rank(e.state) < rank(best->state) ||
        (rank(e.state) == rank(best->state) && e.since < best->since)) {
      best = &e;
    }
  }
  if (!best) return false;
  best->shed = true;
  --holding_[static_cast<int>(pool)];
  // A session that is already being destroyed frees its slot by itself.
  victim = best->session.lock();
  const char* reason = best->state == State::kClosing         ? "closing"
                       : best->state == State::kIdleKeepAlive ? "idle_keepalive"
                                                              : "awaiting_request";
  metrics_.CountConnectionShed(ListenerName(ListenerOf(pool)), reason);
  return true;
}

std::optional<Connections::Admission> Connections::Admit(
    ListenerKind kind, std::weak_ptr<SessionControl> session) {
  std::vector<Pool> pools = {Pool::kPki};
  if (kind == ListenerKind::kApi) pools = {Pool::kApi, Pool::kApiReserved};
  std::shared_ptr<SessionControl> victim;
  std::optional<Admission> admitted;
  {
    std::lock_guard lock(mu_);
    for (Pool pool : pools) {
      auto& held = holding_[static_cast<int>(pool)];
      if (held >= Capacity(pool) && !MakeRoom(pool, victim)) continue;
      ++held;
      uint64_t id = ++next_;
      sessions_.emplace(id, Entry{std::move(session), pool, State::kAwaitingRequest,
                                  std::chrono::steady_clock::now(), false});
      admitted = Admission{id, pool == Pool::kApiReserved};
      PublishOpen(kind, ++open_[static_cast<int>(kind)]);
      break;
    }
  }
  // Outside the lock: shedding posts to the victim's strand, and dropping
  // the last reference to a dying session calls Remove.
  if (victim) victim->Shed();
  victim.reset();
  if (!admitted) {
    metrics_.CountConnectionRefused(ListenerName(kind), "full");
  }
  return admitted;
}

void Connections::SetState(uint64_t id, State state) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Entry& e = it->second;
  if ((e.state == State::kBusy) != (state == State::kBusy)) {
    auto kind = ListenerOf(e.pool);
    size_t& busy = busy_[static_cast<int>(kind)];
    busy = state == State::kBusy ? busy + 1 : busy - 1;
    PublishBusy(kind, busy);
  }
  e.state = state;
  e.since = std::chrono::steady_clock::now();
}

void Connections::SetBusy(uint64_t id) { SetState(id, State::kBusy); }
void Connections::SetIdle(uint64_t id) { SetState(id, State::kIdleKeepAlive); }
void Connections::SetClosing(uint64_t id) { SetState(id, State::kClosing); }

void Connections::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  const Entry& e = it->second;
  if (!e.shed) --holding_[static_cast<int>(e.pool)];
  auto kind = ListenerOf(e.pool);
  PublishOpen(kind, --open_[static_cast<int>(kind)]);
  if (e.state == State::kBusy) PublishBusy(kind, --busy_[static_cast<int>(kind)]);
  sessions_.erase(it);
}

size_t Connections::Open() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void Connections::StopIdle() {
  std::vector<std::weak_ptr<SessionControl>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : sessions_) all.push_back(e.session);
  }
  // Outside the lock: a session that dies here removes itself.
  for (auto& weak : all) {
    if (auto s = weak.lock()) s->StopIfIdle();
  }
}

void Connections::CountReserveRefusal() {
  metrics_.CountConnectionRefused("api", "reserve");
}

// Called locked, so that the gauges never show a stale count.
void Connections::PublishOpen(ListenerKind kind, size_t open) {
  metrics_.SetGauge("certctl_connections_open", {{"listener", ListenerName(kind)}},
                    static_cast<double>(open));
}

void Connections::PublishBusy(ListenerKind kind, size_t busy) {
  metrics_.SetGauge("certctl_connections_busy", {{"listener", ListenerName(kind)}},
                    static_cast<double>(busy));
}

ListenerKind Connections::ListenerOf(Pool pool) {
  return pool == Pool::kPki ? ListenerKind::kPki : ListenerKind::kApi;
}

bool MayUseReserve(std::string_view target, std::string_view authorization,
                   const Config& config) {
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") return true;
  if (authorization.empty()) return false;
  auto principal = Authenticate(authorization, config.api_keys);
  return principal.ok() && principal->role == ApiRole::kAdmin;
}

}  // namespace certctl::daemon
