#include "daemon/metrics.h"

#include <cmath>
#include <cstdio>

#include "certctl/util/time_format.h"

namespace certctl::daemon {
namespace {

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // %.17g round-trips a double; integers print without a fraction.
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out.push_back(c);
      }
    }
    out += "\"";
  }
  return out + "}";
}

Metrics::Metrics() {
  Declare("certctl_http_requests_total", "counter",
          "HTTP requests by endpoint and status.");
  Declare("certctl_http_request_duration_seconds", "summary",
          "Time spent answering requests, by endpoint.");
  Declare("certctl_ocsp_responses_total", "counter",
          "OCSP responses by certificate or response status and cache hit/miss.");
  Declare("certctl_crl_served_total", "counter", "CRLs served, by issuer and source.");
  Declare("certctl_crl_generations_total", "counter",
          "CRL generation runs started by this process, by issuer and result.");
  Declare("certctl_crl_generation_duration_seconds", "gauge",
          "Duration of the last CRL generation, by issuer and CA generation.");
  Declare("certctl_crl_size_bytes", "gauge", "Size of the last generated CRL (DER).");
  Declare("certctl_crl_revoked_entries", "gauge", "Entries in the last generated CRL.");
  Declare("certctl_connection_errors_total", "counter",
          "Connections that failed before a request was read, by listener and stage.");
  Declare("certctl_ocsp_material_evictions_total", "counter",
          "Loaded issuer, CA and responder entries dropped because their in-memory "
          "map was full.");
  Declare("certctl_connections_open", "gauge", "Open client connections, by listener.");
  Declare("certctl_connections_busy", "gauge",
          "Open client connections answering a request, by listener.");
  Declare("certctl_connections_limit", "gauge",
          "Most client connections a listener keeps open.");
  Declare("certctl_connections_reserved", "gauge",
          "Connection slots kept for health checks and admin-key requests.");
  Declare("certctl_connections_shed_total", "counter",
          "Connections closed to make room for new ones, by listener and reason.");
  Declare("certctl_connections_refused_total", "counter",
          "Connections refused at the connection limit, by listener and reason.");
  Declare("certctl_ocsp_responder_not_after_timestamp_seconds", "gauge",
          "Expiry of the current OCSP responder certificate (Unix time).");
}

void Metrics::Declare(const std::string& name, std::string type, std::string help) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  f.type = std::move(type);
  f.help = std::move(help);
}

void Metrics::Add(const std::string& name, const Labels& labels, double delta,
                  std::string_view suffix) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "counter";
  f.samples[std::string(suffix) + RenderLabels(labels)] += delta;
}

void Metrics::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  auto& f = families_[name];
  if (f.type.empty()) f.type = "gauge";
  f.samples[RenderLabels(labels)] = value;
}

void Metrics::CountRequest(std::string_view endpoint, int status,
                           std::chrono::duration<double> took) {
  std::string e(endpoint);
  Add("certctl_http_requests_total",
      {{"endpoint", e}, {"status", std::to_string(status)}}, 1);
  Add("certctl_http_request_duration_seconds", {{"endpoint", e}}, took.count(), "_sum");
  Add("certctl_http_request_duration_seconds", {{"endpoint", e}}, 1, "_count");
}

void Metrics::CountOcspResponse(std::string_view status, bool cache_hit) {
  Add("certctl_ocsp_responses_total",
      {{"status", std::string(status)}, {"cache", cache_hit ? "hit" : "miss"}}, 1);
}

void Metrics::CountCrlServed(const std::string& issuer, bool from_memory) {
  Add("certctl_crl_served_total",
      {{"issuer", issuer}, {"source", from_memory ? "memory" : "database"}}, 1);
}

void Metrics::CountConnectionError(std::string_view listener, std::string_view stage) {
  Add("certctl_connection_errors_total",
      {{"listener", std::string(listener)}, {"stage", std::string(stage)}}, 1);
}

void Metrics::CountConnectionShed(std::string_view listener, std::string_view reason) {
  Add("certctl_connections_shed_total",
      {{"listener", std::string(listener)}, {"reason", std::string(reason)}}, 1);
}

void Metrics::CountConnectionRefused(std::string_view listener, std::string_view reason) {
  Add("certctl_connections_refused_total",
      {{"listener", std::string(listener)}, {"reason", std::string(reason)}}, 1);
}

void Metrics::RecordCrlGeneration(const std::string& issuer, std::string_view result) {
  Add("certctl_crl_generations_total",
      {{"issuer", issuer}, {"result", std::string(result)}}, 1);
}

void Metrics::RecordCrlPublished(const std::string& issuer, int generation,
                                 double duration_seconds, double size_bytes,
                                 double revoked_count) {
  Labels l{{"issuer", issuer}, {"generation", std::to_string(generation)}};
  Set("certctl_crl_generation_duration_seconds", l, duration_seconds);
  Set("certctl_crl_size_bytes", l, size_bytes);
  Set("certctl_crl_revoked_entries", l, revoked_count);
}

void Metrics::SetResponderExpiry(const std::string& issuer, int generation,
                                 TimePoint not_after) {
  Set("certctl_ocsp_responder_not_after_timestamp_seconds",
      {{"issuer", issuer}, {"generation", std::to_string(generation)}},
      static_cast<double>(ToUnixSeconds(not_after)));
}

void Metrics::SetGauge(const std::string& name, const Labels& labels, double value) {
  Set(name, labels, value);
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.samples.empty()) continue;
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [key, v] : f.samples) {
      out += name + key + " " + FormatValue(v) + "\n";
    }
  }
  return out;
}

double Metrics::Value(const std::string& name, const Labels& labels,
                      std::string_view suffix) const {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.samples.find(std::string(suffix) + RenderLabels(labels));
  return s == f->second.samples.end() ? 0 : s->second;
}

}  // namespace certctl::daemon
