#include "daemon/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>

#include "daemon/connections.h"
#include "daemon/listener.h"

namespace certctl::daemon {
namespace net = boost::asio;

struct Server::State {
  State(App& a, TlsContextHolder& tls, ServerOptions o)
      : app(a),
        options(o),
        workers(static_cast<size_t>(std::max(1, o.worker_threads))),
        shared(a, workers, tls, o.timeouts, o.connections),
        signals(ioc, SIGINT, SIGTERM, SIGHUP) {}

  App& app;
  ServerOptions options;
  // Declared in this order so that they are destroyed in the reverse one:
  // the I/O context (whose queued handlers own sessions) goes before the
  // ServerShared the sessions unregister from, and that before the workers.
  net::thread_pool workers;
  ServerShared shared;
  net::io_context ioc;
  net::signal_set signals;
  std::shared_ptr<Listener> api, pki;
  std::vector<std::thread> io_threads;
  std::function<void()> on_hangup;
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  bool stopped = false;

  void WaitForSignal() {
    signals.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;  // cancelled at shutdown
      if (signo == SIGHUP) {
        app.logger()->info("SIGHUP: reloading trust bundles and the TLS certificate");
        if (on_hangup) net::post(workers, on_hangup);
      } else {
        app.logger()->info("{}: draining", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        Request();
      }
      WaitForSignal();
    });
  }

  void Request() {
    {
      std::lock_guard lock(mu);
      stop_requested = true;
    }
    cv.notify_all();
  }
};

Server::Server(App& app, TlsContextHolder& tls, ServerOptions options)
    : state_(std::make_unique<State>(app, tls, options)) {}

Server::~Server() {
  if (!state_->stopped) Drain();
}

Status Server::Open(const std::string& api_address, const std::string& pki_address) {
  ASSIGN_OR_RETURN(state_->api, Listener::Open(state_->ioc, api_address,
                                               ListenerKind::kApi, state_->shared));
  ASSIGN_OR_RETURN(state_->pki, Listener::Open(state_->ioc, pki_address,
                                               ListenerKind::kPki, state_->shared));
  return Status::Ok();
}

std::string Server::api_address() const {
  return state_->api ? state_->api->local_address() : "";
}
std::string Server::pki_address() const {
  return state_->pki ? state_->pki->local_address() : "";
}

void Server::Start(std::function<void()> on_hangup) {
  state_->on_hangup = std::move(on_hangup);
  state_->WaitForSignal();
  if (state_->api) state_->api->Start();
  if (state_->pki) state_->pki->Start();
  for (int i = 0; i < std::max(1, state_->options.io_threads); ++i) {
    state_->io_threads.emplace_back([this] { state_->ioc.run(); });
  }
}

void Server::WaitForStop() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->stop_requested; });
}

size_t Server::Drain() {
  State& s = *state_;
  if (s.stopped) return 0;
  s.stopped = true;
  s.app.readiness().SetDraining();  // sessions and listeners read it too
  if (s.api) s.api->Stop();
  if (s.pki) s.pki->Stop();
  auto deadline = std::chrono::steady_clock::now() + s.options.drain_timeout;
  size_t open = s.shared.connections.Open();
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    s.shared.connections.StopIdle();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    open = s.shared.connections.Open();
  }
  if (open > 0) {
    s.app.logger()->warn("drain: {} connections still open after {} ms; closing them",
                         open, s.options.drain_timeout.count());
  }
  boost::system::error_code ec;
  s.signals.cancel(ec);
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
  // No new work can arrive now; join waits for the handlers still running
  // (their responses are dropped with the stopped I/O context).
  s.workers.join();
  return open;
}

}  // namespace certctl::daemon
