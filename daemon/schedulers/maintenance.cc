#include "daemon/schedulers/maintenance.h"

#include "certctl/ops/cache_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/time_format.h"

namespace certctl::daemon {
namespace {
using Steady = std::chrono::steady_clock;
}  // namespace

Maintenance::Maintenance(App& app, std::function<bool()> is_leader,
                         MaintenanceOptions options)
    : app_(app), is_leader_(std::move(is_leader)), options_(options) {}

Maintenance::~Maintenance() { Stop(); }

void Maintenance::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Maintenance::Stop() {
  stop_.Stop();
  if (thread_.joinable()) thread_.join();
}

Status Maintenance::RotateResponders() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  Status s = ops::RotateDueOcspResponders(ctx, report);
  for (const auto& r : report.data.value("responders", nlohmann::json::array())) {
    std::string action = r.value("action", "");
    if (action == "bootstrapped" || action == "rotated" || action == "replaced") {
      app_.logger()->info("OCSP responder of {}/g{} {}: {}", r.value("issuer", ""),
                          r.value("generation", 0), action, r.value("reason", ""));
    }
  }
  if (!s.ok()) app_.logger()->warn("OCSP responder rotation: {}", s.ToString());
  RefreshResponderExpiry();
  return s;
}

Status Maintenance::CacheUpkeep() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  ops::OpReport report;
  Status s = ops::VerifyOcspCache(ctx, /*fix=*/true, report, /*audit=*/false);
  if (!s.ok()) {
    app_.logger()->warn("OCSP cache upkeep: {}", s.ToString());
  } else if (report.data.value("fixed", 0) > 0) {
    app_.logger()->info("OCSP cache upkeep: removed {} of {} cached answers",
                        report.data.value("fixed", 0), report.data.value("scanned", 0));
  }
  return s;
}

void Maintenance::RefreshResponderExpiry() {
  ops::OpContext ctx = app_.Context(app_.DaemonActor());
  auto ids = ops::ListIssuerIds(ctx);
  if (!ids.ok()) return;
  for (const auto& issuer : *ids) {
    ops::OpReport report;
    if (!ops::DescribeOcspResponder(ctx, issuer, report).ok()) continue;
    for (const auto& g : report.data.value("generations", nlohmann::json::array())) {
      const auto& responder = g.value("responder", nlohmann::json());
      if (!responder.is_object()) continue;
      auto not_after = ParseRfc3339(responder.value("not_after", ""));
      if (not_after.ok())
        app_.metrics().SetResponderExpiry(issuer, g.value("generation", 0), *not_after);
    }
  }
}

void Maintenance::Loop() {
  auto next_rotation = Steady::now();
  auto next_upkeep = Steady::now() + options_.upkeep_interval;
  auto next_expiry = Steady::now();
  while (!stop_.stopped()) {
    auto now = Steady::now();
    if (is_leader_ && is_leader_()) {
      if (now >= next_rotation) {
        (void)RotateResponders();
        next_rotation = Steady::now() + options_.rotation_interval;
        next_expiry = Steady::now() + options_.expiry_refresh;
      }
      if (now >= next_upkeep) {
        (void)CacheUpkeep();
        next_upkeep = Steady::now() + options_.upkeep_interval;
      }
    }
    if (now >= next_expiry) {
      RefreshResponderExpiry();
      next_expiry = Steady::now() + options_.expiry_refresh;
    }
    // Leadership may arrive any time: look again every second (cheap).
    if (!stop_.SleepFor(std::chrono::seconds(1))) break;
  }
}

}  // namespace certctl::daemon
