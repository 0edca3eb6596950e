#include "daemon/schedulers/maintenance.h"

#include "certctl/ops/cache_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/key_files.h"
#include "certctl/ops/ocsp_ops.h"

namespace certctl::daemon {

Maintenance::Maintenance(App& app, std::function<bool()> is_leader,
                         MaintenanceOptions options)
    : app_(app), is_leader_(std::move(is_leader)), options_(options) {}

Maintenance::~Maintenance() { Stop(); }

void Maintenance::Start() {
  next_rotation_ = Steady::now();
  next_upkeep_ = Steady::now() + options_.upkeep_interval;
  next_expiry_ = Steady::now();
  thread_.Start([this] { return Tick(); });
}

void Maintenance::Stop() { thread_.Stop(); }

Status Maintenance::RotateResponders() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  auto rotations = ops::RotateDueOcspResponders(ctx, report);
  Status first = rotations.status();
  if (rotations.ok()) {
    for (const auto& r : rotations->responders) {
      using ops::ResponderAction;
      if (r.action == ResponderAction::kBootstrapped ||
          r.action == ResponderAction::kRotated ||
          r.action == ResponderAction::kReplaced) {
        app_.logger()->info("OCSP responder of {}/g{} {}: {}", r.issuer, r.generation,
                            ops::ResponderActionName(r.action), r.reason);
      } else if (r.action == ResponderAction::kFailed && first.ok()) {
        first = r.error;
      }
    }
  }
  if (!first.ok()) app_.logger()->warn("OCSP responder rotation: {}", first.ToString());
  RefreshResponderExpiry();
  return first;
}

Status Maintenance::CacheUpkeep() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  auto verified = ops::VerifyOcspCache(ctx, /*fix=*/true, report, /*audit=*/false);
  if (!verified.ok()) {
    app_.logger()->warn("OCSP cache upkeep: {}", verified.status().ToString());
  } else if (verified->fixed > 0) {
    app_.logger()->info("OCSP cache upkeep: removed {} of {} cached answers",
                        verified->fixed, verified->scanned);
  }
  Status pruned = PruneKeyBackups();
  return verified.ok() ? pruned : verified.status();
}

Status Maintenance::PruneKeyBackups() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  auto pruned = ops::PruneKeyBackups(ctx, ops::PruneTrigger::kScheduled, report);
  if (!pruned.ok()) {
    app_.logger()->warn("key backup upkeep: {}", pruned.status().ToString());
  } else if (!pruned->removed.empty()) {
    app_.logger()->info(
        "key backup upkeep: removed {} responder key backup(s) older "
        "than key_backup_retention",
        pruned->removed.size());
  }
  for (const auto& f : report.findings) {
    app_.logger()->warn("key backup upkeep: {}: {}", f.subject, f.message);
  }
  return pruned.status();
}

void Maintenance::RefreshResponderExpiry() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  auto ids = ops::ListIssuerIds(ctx);
  if (!ids.ok()) return;
  for (const auto& issuer : *ids) {
    ops::OpReport report;
    auto status = ops::DescribeOcspResponder(ctx, issuer, report);
    if (!status.ok()) continue;
    for (const auto& g : status->generations) {
      if (!g.responder) continue;
      app_.metrics().SetResponderExpiry(issuer, g.generation,
                                        g.responder->certificate.not_after);
    }
  }
}

std::chrono::milliseconds Maintenance::Tick() {
  auto now = Steady::now();
  if (is_leader_ && is_leader_()) {
    if (now >= next_rotation_) {
      (void)RotateResponders();
      next_rotation_ = Steady::now() + options_.rotation_interval;
      next_expiry_ = Steady::now() + options_.expiry_refresh;
    }
    if (now >= next_upkeep_) {
      (void)CacheUpkeep();
      next_upkeep_ = Steady::now() + options_.upkeep_interval;
    }
  }
  if (now >= next_expiry_) {
    RefreshResponderExpiry();
    next_expiry_ = Steady::now() + options_.expiry_refresh;
  }
  // Leadership may arrive any time: look again every second (cheap).
  return std::chrono::seconds(1);
}

}  // namespace certctl::daemon
