#include "daemon/schedulers/invalidation_watcher.h"

namespace certctl::daemon {
namespace {
// How long one wait for notifications lasts: bounds how long Stop() takes.
constexpr auto kWaitSlice = std::chrono::milliseconds(500);
}  // namespace

InvalidationWatcher::InvalidationWatcher(
    App& app, std::function<void(const std::string&)> crl_changed,
    std::chrono::milliseconds retry)
    : app_(app), crl_changed_(std::move(crl_changed)), retry_(retry) {}

InvalidationWatcher::~InvalidationWatcher() { Stop(); }

void InvalidationWatcher::Start() {
  // Until it listens, OCSP statuses and responders in memory are not trusted
  // to answer without the database (OcspService::SetInvalidationsHeard).
  app_.ocsp().SetInvalidationsHeard(false);
  thread_.Start([this] { return Tick(); });
}

void InvalidationWatcher::Stop() {
  thread_.Stop();
  feed_.reset();
}

void InvalidationWatcher::Apply(const Invalidation& what) {
  ++received_;
  app_.logger()->debug("invalidation: scope {} issuer \"{}\" serial \"{}\"", what.scope,
                       what.issuer, what.serial);
  if (what.scope == "ocsp" || what.scope == "all") app_.ocsp().Invalidate(what);
  if (what.scope == "crl" || what.scope == "all") {
    app_.crl().Invalidate(what.issuer);
    if (crl_changed_) crl_changed_(what.issuer);
  }
}

std::chrono::milliseconds InvalidationWatcher::Tick() {
  if (!feed_) {
    auto connected = ops::InvalidationFeed::Connect(app_.db());
    if (!connected.ok()) {
      if (!lost_logged_) {
        app_.logger()->warn(
            "cannot listen for cache invalidations ({}); retrying every {} ms",
            connected.status().ToString(), retry_.count());
        lost_logged_ = true;
      }
      return retry_;
    }
    feed_ = std::move(connected).value();
    listening_ = true;
    if (ever_connected_) {
      app_.logger()->info(
          "listening for cache invalidations again; dropping in-memory "
          "answers that may have missed some");
      Apply({"all", "", ""});
    } else {
      // Requests are served before the first LISTEN takes effect (reading
      // the database, since memory is not trusted yet): what they put in
      // memory may have missed a revocation made in between. Not counted
      // as a received invalidation.
      app_.ocsp().Invalidate({"all", "", ""});
    }
    app_.ocsp().SetInvalidationsHeard(true);
    ever_connected_ = true;
    lost_logged_ = false;
  }
  Status s = feed_->Wait(kWaitSlice, [&](const Invalidation& what) { Apply(what); });
  if (!s.ok()) {
    listening_ = false;
    app_.ocsp().SetInvalidationsHeard(false);
    feed_.reset();
    app_.logger()->warn("lost the cache invalidation listener: {}", s.ToString());
    lost_logged_ = true;
  }
  return std::chrono::milliseconds(0);
}

}  // namespace certctl::daemon
