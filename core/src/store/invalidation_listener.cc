#include "store/invalidation_listener.h"

#include <cstdlib>
#include <deque>
#include <string>

#include "certctl/config/config.h"
#include "store/pg.h"

namespace certctl {
namespace {

// Queues payloads; they are parsed and handed out by Wait() after libpqxx has
// finished dispatching, so a callback never runs inside libpqxx.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, std::deque<std::string>& queue)
      : pqxx::notification_receiver(c, kInvalidationChannel), queue_(queue) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    queue_.push_back(payload);
  }

 private:
  std::deque<std::string>& queue_;
};

}  // namespace

struct InvalidationListener::Impl {
  std::unique_ptr<pqxx::connection> conn;
  std::deque<std::string> queue;
  std::unique_ptr<Receiver> receiver;
};

InvalidationListener::InvalidationListener(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

InvalidationListener::~InvalidationListener() {
  if (!impl_) return;
  // Unregistering issues UNLISTEN, which throws on a dead connection.
  try {
    impl_->receiver.reset();
  } catch (...) {
  }
}

Result<std::unique_ptr<InvalidationListener>> InvalidationListener::Connect(
    const DatabaseOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::string masked = MaskDatabaseUrl(options.url);
  Status s = Guard("listen for invalidations on " + masked, [&] {
    impl->conn = std::make_unique<pqxx::connection>(
        ConninfoWithConnectTimeout(options.url, options.connect_timeout));
    // Never reconnect behind our back: a new session would not be listening.
    impl->conn->inhibit_reactivation(true);
    pqxx::nontransaction tx(*impl->conn);
    tx.exec_params("SELECT set_config('application_name', $1, false)",
                   options.application_name + " (listener)");
    tx.commit();
    impl->receiver = std::make_unique<Receiver>(*impl->conn, impl->queue);
    return Status::Ok();
  });
  if (!s.ok()) {
    // A refused connection is an outage, whatever libpq called it.
    if (s.code() == StatusCode::kInternal) return Status::Unavailable(s.message());
    return s;
  }
  return std::unique_ptr<InvalidationListener>(new InvalidationListener(std::move(impl)));
}

Status InvalidationListener::Wait(std::chrono::milliseconds timeout,
                                  const std::function<void(const Invalidation&)>& fn) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  Status s = Guard("wait for invalidations", [&] {
    if (!impl_->conn->is_open()) {
      return Status::Unavailable("invalidation listener: database connection lost");
    }
    // Returns early when a notification arrives; throws broken_connection
    // when the server went away.
    impl_->conn->await_notification(static_cast<long>(micros / 1000000),
                                    static_cast<long>(micros % 1000000));
    return Status::Ok();
  });
  // Deliver what arrived even when the connection then broke.
  while (!impl_->queue.empty()) {
    std::string payload = std::move(impl_->queue.front());
    impl_->queue.pop_front();
    auto what = Invalidation::FromPayload(payload);
    if (what.ok()) fn(*what);  // a malformed payload is skipped
  }
  if (!s.ok() && s.code() == StatusCode::kInternal)
    return Status::Unavailable(s.message());
  return s;
}

}  // namespace certctl
