#include "daemon/serve.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "certctl/ops/trust.h"
#include "certctl/util/exit_codes.h"
#include "certctl/util/files.h"
#include "daemon/app.h"
#include "daemon/file_limit.h"
#include "daemon/schedulers/crl_loader.h"
#include "daemon/schedulers/crl_scheduler.h"
#include "daemon/schedulers/database_monitor.h"
#include "daemon/schedulers/invalidation_watcher.h"
#include "daemon/schedulers/maintenance.h"
#include "daemon/server.h"
#include "daemon/systemd_notify.h"
#include "daemon/tls_context.h"

namespace certctl::daemon {
namespace {

// Extra time, after the drain, for the schedulers and the dev cluster to
// stop before the watchdog ends the process anyway.
constexpr auto kStopGrace = std::chrono::seconds(20);

// SIGHUP: every trust bundle through the shared procedure, then the TLS
// certificate; a refused file keeps what is loaded. The outcome goes to the
// log and, next to the pid file, to the record `certctl-admin trust reload
// --signal` waits for.
void Reload(App& app, TlsContextHolder& tls) {
  // The system clock, not app.clock(): the admin tool compares it with its own.
  ops::SignalReload record{static_cast<int>(::getpid()),
                           std::chrono::system_clock::now(),
                           Status::Ok(),
                           {},
                           ""};
  if (!app.trust().Names().empty()) {
    ops::OpContext ctx = app.Context(app.DaemonActor());
    ctx.actor.command_line = "SIGHUP";
    ops::OpReport report;
    auto reload = ops::ReloadTrustAnchors(ctx, app.trust(), "", report);
    if (!reload.ok()) {
      record.status = reload.status();
      app.logger()->error("SIGHUP: {} (the previous bundles stay in place)",
                          reload.status().message());
    } else if (reload->refused()) {
      app.logger()->error("SIGHUP: {} (the previous bundles stay in place)",
                          reload->RefusalMessage());
    } else {
      app.logger()->info("SIGHUP: trust bundles reloaded");
    }
    if (reload.ok()) record.bundles = reload->bundles;
  }
  if (Status s = tls.Reload(); s.ok()) {
    app.logger()->info("SIGHUP: TLS certificate reloaded from {}", tls.cert_path());
  } else {
    record.tls_error = s.message();
    app.logger()->error("SIGHUP: keeping the current TLS certificate: {}", s.message());
  }
  const std::string& pid_file = app.config().pid_file;
  if (pid_file.empty()) return;
  if (Status s = ops::WriteSignalReload(ops::SignalReloadPath(pid_file), record);
      !s.ok()) {
    app.logger()->warn("SIGHUP: the outcome was not recorded for certctl-admin: {}",
                       s.ToString());
  }
}

// Bounded exit: if stopping hangs (a handler stuck on a dead database), the
// process still ends.
void StartWatchdog(std::chrono::milliseconds budget,
                   std::shared_ptr<spdlog::logger> logger) {
  std::thread([budget, logger] {
    std::this_thread::sleep_for(budget);
    logger->error("shutdown took longer than {} ms; exiting now", budget.count());
    logger->flush();
    std::_Exit(kExitInternal);
  }).detach();
}

// The listeners' caps and timeouts from the configuration, with the soft
// file descriptor limit raised first and the caps fitted under it.
ServerOptions MakeServerOptions(const Config& config, spdlog::logger& log) {
  ServerOptions options;
  options.worker_threads = std::max(4, config.database_pool_size);
  options.timeouts.read = config.http_read_timeout;
  FileLimit files = RaiseFileLimit();
  if (files.soft != files.before) {
    log.info("file descriptors: soft limit raised from {} to {} (the hard limit)",
             files.before, files.soft);
  } else {
    log.info("file descriptors: soft limit {} (hard limit {})", files.soft, files.hard);
  }
  ConnectionLimits wanted{
      .api = static_cast<size_t>(config.listen_api_max_connections),
      .api_reserved = static_cast<size_t>(config.listen_api_reserved_connections),
      .pki = static_cast<size_t>(config.listen_pki_max_connections)};
  options.connections = FitConnectionLimits(
      wanted, files.soft, std::max(config.database_pool_size, options.worker_threads));
  const ConnectionLimits& got = options.connections;
  if (got.api != wanted.api || got.pki != wanted.pki) {
    log.warn(
        "listen_api_max_connections {} and listen_pki_max_connections {} do not fit "
        "in {} file descriptors: serving at most {} (API, {} reserved) and {} (PKI); "
        "raise the hard limit (LimitNOFILE= in a systemd unit) to serve more",
        wanted.api, wanted.pki, files.soft, got.api, got.api_reserved, got.pki);
  }
  return options;
}

// A systemd that cannot be told is worth a warning, not a refusal to serve.
void TellSystemd(spdlog::logger& log, const std::string& socket, std::string_view state) {
  if (Status s = NotifySystemd(socket, state); !s.ok()) log.warn("{}", s.message());
}

}  // namespace

Status Serve(Runtime& rt) {
  const Config& config = rt.config;
  const std::string notify_socket = SystemdNotifySocket();
  App app(*rt.db, config, *rt.keyring, *rt.clock, rt.logger);
  app.readiness().SetCaLoaded(true);
  app.LoadTrustAnchors();

  TlsContextHolder tls(config.server_tls_cert_path, config.server_tls_key_path);
  RETURN_IF_ERROR(tls.Reload());
  ServerOptions options = MakeServerOptions(config, *app.logger());
  Server server(app, tls, options);
  RETURN_IF_ERROR(server.Open(config.listen_api, config.listen_pki));

  CrlScheduler crl(app, {.interval = config.crl_generation_interval});
  app.OnRevocation([&crl](const std::string& issuer) { crl.Changed(issuer); });
  CrlLoader crl_loader(app);
  InvalidationWatcher watcher(app, [&crl, &crl_loader](const std::string& issuer) {
    crl_loader.Reload(issuer);
    crl.Changed(issuer);
  });
  DatabaseMonitor monitor(app);
  Maintenance maintenance(app, [&crl] { return crl.leader(); });

  server.Start([&app, &tls] { Reload(app, tls); });
  crl_loader.Start();
  watcher.Start();
  monitor.Start();
  crl.Start();
  maintenance.Start();
  app.logger()->info("serving: API and PKI on https://{}, PKI on http://{} (base URL {})",
                     server.api_address(), server.pki_address(), config.base_url);
  TellSystemd(*app.logger(), notify_socket,
              "READY=1\nSTATUS=serving on " + server.api_address() + " and " +
                  server.pki_address() + "\nMAINPID=" + std::to_string(::getpid()));

  server.WaitForStop();
  TellSystemd(*app.logger(), notify_socket, "STOPPING=1\nSTATUS=draining connections");
  StartWatchdog(options.drain_timeout + kStopGrace, app.logger());
  size_t cut = server.Drain();
  maintenance.Stop();
  crl.Stop();
  monitor.Stop();
  watcher.Stop();
  crl_loader.Stop();
  if (!config.pid_file.empty()) {
    (void)RemoveFileDurably(ops::SignalReloadPath(config.pid_file));
  }
  app.logger()->info("stopped{}",
                     cut ? " (" + std::to_string(cut) + " connections cut)" : "");
  return Status::Ok();
}

}  // namespace certctl::daemon
