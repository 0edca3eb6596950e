#include "daemon/schedulers/crl_scheduler.h"

#include "certctl/ops/issuer_ops.h"
#include "certctl/util/time_format.h"

namespace certctl::daemon {
namespace {

// A run is due again when its nextUpdate is less than half its validity away.
bool PastHalfLife(const ops::CachedCrlSummary& cache, TimePoint now) {
  return certctl::PastHalfLife(cache.this_update, cache.next_update, now);
}

}  // namespace

CrlScheduler::CrlScheduler(App& app, CrlSchedulerOptions options)
    : app_(app),
      options_(options),
      leadership_(app.db(), kCrlSchedulerLock, "certctld") {}

CrlScheduler::~CrlScheduler() { Stop(); }

void CrlScheduler::Start() {
  next_leadership_check_ = Steady::now();
  next_scheduled_ = Steady::now() + options_.interval;
  thread_.Start([this] { return Tick(); });
}

void CrlScheduler::Stop() {
  thread_.Stop();
  leadership_.Release();
}

bool CrlScheduler::leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

void CrlScheduler::Changed(const std::string& issuer) {
  {
    std::lock_guard lock(mu_);
    if (!leader_) return;  // the leader heard it too
    auto now = Steady::now();
    auto [it, added] = pending_.try_emplace(issuer, Pending{now, now});
    it->second.due =
        std::min(now + options_.debounce, it->second.first + options_.max_delay);
  }
  thread_.Wake();
}

void CrlScheduler::ForEachIssuer(const std::function<void(const std::string&)>& fn) {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  auto ids = ops::ListIssuerIds(ctx);
  if (!ids.ok()) {
    app_.logger()->debug("CRL scheduler: cannot list issuers: {}",
                         ids.status().ToString());
    return;
  }
  for (const auto& id : *ids) fn(id);
}

Result<bool> CrlScheduler::NeedsRegeneration(const std::string& issuer) {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  ASSIGN_OR_RETURN(ops::CrlStatus status, ops::DescribeCrls(ctx, issuer, 0, report));
  TimePoint now = app_.clock().Now();
  for (const auto& i : status.issuers) {
    for (const auto& g : i.generations) {
      if (g.verdict != ops::CrlVerdict::kOk) return true;
      if (!g.cache || PastHalfLife(*g.cache, now)) return true;
    }
  }
  return false;
}

bool CrlScheduler::RegenerateIfNeeded(const std::string& issuer,
                                      ops::CrlTrigger trigger) {
  auto needed = NeedsRegeneration(issuer);
  if (needed.ok() && !*needed) {
    // Another process regenerated it: make sure this one serves the new row.
    app_.crl().Invalidate(issuer);
    ++found_current_;
    return false;
  }
  return Regenerate(issuer, trigger).ok();
}

Status CrlScheduler::Regenerate(const std::string& issuer, ops::CrlTrigger trigger) {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ctx.lock_wait = std::chrono::milliseconds(0);
  ops::OpReport report;
  // What was written, also when another generation of the issuer failed.
  std::vector<ops::CrlArtifact> written;
  ops::RegenerateOptions options;
  options.artifacts = &written;
  Status s = ops::RegenerateCrl(ctx, issuer, trigger, options, report).status();
  auto trigger_name = ops::CrlTriggerName(trigger);
  if (s.code() == StatusCode::kBusy) {
    app_.metrics().RecordCrlGeneration(issuer, "busy");
    app_.logger()->debug("CRL of {} ({}): another process is generating it: {}", issuer,
                         trigger_name, s.message());
    return s;
  }
  app_.metrics().RecordCrlGeneration(issuer, s.ok() ? "ok" : "failed");
  for (const auto& c : written) {
    auto size = static_cast<int64_t>(c.der.size());
    app_.metrics().RecordCrlPublished(issuer, c.generation, c.duration_ms / 1000.0, size,
                                      c.revoked_count);
    app_.logger()->info("CRL of {}/g{}: number {}, {} entries, {} bytes, {} ms ({})",
                        issuer, c.generation, c.crl_number, c.revoked_count, size,
                        c.duration_ms, trigger_name);
  }
  app_.crl().Invalidate(issuer);
  // Signed, verified and cached just now: served as they are, not read back.
  for (auto& c : written) app_.crl().Publish(std::move(c));
  bool& failing = failing_[issuer];
  if (!s.ok() && !failing) {
    app_.logger()->error("CRL of {} ({}) failed: {}", issuer, trigger_name, s.ToString());
  } else if (s.ok() && failing) {
    app_.logger()->info("CRL of {}: generation works again", issuer);
  }
  failing = !s.ok();
  return s;
}

void CrlScheduler::KeepLeadership() {
  ops::Leadership::Change change = leadership_.Refresh();
  if (change == ops::Leadership::Change::kLost) {
    std::lock_guard lock(mu_);
    leader_ = false;
    pending_.clear();
    app_.logger()->warn("CRL scheduler: lost the {} lock with the database connection",
                        kCrlSchedulerLock);
    return;
  }
  if (change != ops::Leadership::Change::kGained) return;
  {
    std::lock_guard guard(mu_);
    leader_ = true;
  }
  app_.logger()->info("CRL scheduler: this process runs crlGenerationLoop (every {})",
                      FormatDuration(options_.interval));
  ForEachIssuer([&](const std::string& issuer) {
    RegenerateIfNeeded(issuer, ops::CrlTrigger::kStartup);
  });
}

void CrlScheduler::RunDue() {
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    auto now = Steady::now();
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.due <= now) {
        due.push_back(it->first);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& issuer : due) {
    if (issuer.empty()) {
      ForEachIssuer([&](const std::string& i) {
        RegenerateIfNeeded(i, ops::CrlTrigger::kRevocation);
      });
    } else {
      RegenerateIfNeeded(issuer, ops::CrlTrigger::kRevocation);
    }
  }
}

std::chrono::milliseconds CrlScheduler::Tick() {
  if (Steady::now() >= next_leadership_check_) {
    KeepLeadership();
    ++leadership_checks_;
    next_leadership_check_ = Steady::now() + options_.leader_retry;
  }
  bool is_leader = leader();
  if (is_leader && !was_leader_) next_scheduled_ = Steady::now() + options_.interval;
  was_leader_ = is_leader;
  if (is_leader) {
    RunDue();
    if (Steady::now() >= next_scheduled_) {
      ForEachIssuer([&](const std::string& issuer) {
        (void)Regenerate(issuer, ops::CrlTrigger::kScheduled);
      });
      next_scheduled_ = Steady::now() + options_.interval;
    }
  }
  // Sleep until the next due change, leadership check or tick.
  auto wake = is_leader ? std::min(next_leadership_check_, next_scheduled_)
                        : next_leadership_check_;
  {
    std::lock_guard lock(mu_);
    for (const auto& [issuer, p] : pending_) wake = std::min(wake, p.due);
  }
  auto sleep = std::chrono::ceil<std::chrono::milliseconds>(wake - Steady::now());
  return std::max(sleep, std::chrono::milliseconds(10));
}

}  // namespace certctl::daemon
