// /healthz, /readyz and /metrics.
#include "certctl/util/time_format.h"
#include "daemon/handlers/handlers.h"

namespace certctl::daemon::handlers {

HttpResponse Healthz(const HttpRequest&, App&) {
  HttpResponse r = JsonResponse(200, {{"status", "ok"}});
  r.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse Readyz(const HttpRequest&, App& app) {
  const Readiness& ready = app.readiness();
  HttpResponse r = JsonResponse(ready.ready() ? 200 : 503,
                                {{"ready", ready.ready()},
                                 {"database", ready.database_up() ? "up" : "down"},
                                 {"ca", ready.ca_loaded() ? "loaded" : "missing"},
                                 {"draining", ready.draining()}});
  r.Set("Cache-Control", "no-store");
  return r;
}

HttpResponse MetricsText(const HttpRequest&, App& app) {
  Metrics& m = app.metrics();
  PoolStats pool = app.db().Stats();
  m.SetGauge("certctl_db_pool_connections", {{"state", "open"}}, pool.open);
  m.SetGauge("certctl_db_pool_connections", {{"state", "in_use"}}, pool.in_use);
  m.SetGauge("certctl_db_pool_connections", {{"state", "max"}}, pool.max);
  m.SetGauge("certctl_db_pool_connections", {{"state", "waiting"}}, pool.waiting);
  const Readiness& ready = app.readiness();
  m.SetGauge("certctl_database_up", {}, ready.database_up() ? 1 : 0);
  m.SetGauge("certctl_ready", {}, ready.ready() ? 1 : 0);
  m.SetGauge("certctl_ocsp_memory_cache_entries", {},
             static_cast<double>(app.ocsp().MemoryEntries()));
  m.SetGauge("certctl_crl_memory_entries", {},
             static_cast<double>(app.crl().MemoryEntries()));
  m.SetGauge("certctl_ocsp_material_evictions_total", {},
             static_cast<double>(app.ocsp().MaterialEvictions()));
  m.SetGauge("certctl_start_time_seconds", {},
             static_cast<double>(ToUnixSeconds(app.started_at())));
  m.SetGauge("certctl_build_info", {{"version", CERTCTL_VERSION}}, 1);
  HttpResponse r;
  r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  r.Set("Cache-Control", "no-store");
  r.body = m.Render();
  return r;
}

}  // namespace certctl::daemon::handlers
