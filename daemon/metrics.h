// certctld's metrics in the Prometheus text exposition format (version 0.0.4).
//
// Hand-written: the format is a few lines per family, and Debian 12 has no
// package of a Prometheus client library for C++.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "certctl/util/clock.h"

namespace certctl::daemon {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  Metrics();

  // certctl_http_requests_total{endpoint,status} and the summary
  // certctl_http_request_duration_seconds{endpoint} (_sum and _count).
  void CountRequest(std::string_view endpoint, int status,
                    std::chrono::duration<double> took);

  // certctl_ocsp_responses_total{status,cache}: status is the certificate
  // status ("good", "revoked", "unknown", "mixed") of a successful response,
  // else the response status ("malformedRequest", "unauthorized", ...);
  // cache is "hit" or "miss".
  void CountOcspResponse(std::string_view status, bool cache_hit);

  // certctl_crl_served_total{issuer,source}: source "memory" or "database".
  void CountCrlServed(const std::string& issuer, bool from_memory);

  // One CRL generation run: certctl_crl_generations_total{issuer,result},
  // and on success the last duration and size per generation
  // (certctl_crl_generation_duration_seconds, certctl_crl_size_bytes,
  // certctl_crl_revoked_entries).
  void RecordCrlGeneration(const std::string& issuer, std::string_view result);
  void RecordCrlPublished(const std::string& issuer, int generation,
                          double duration_seconds, double size_bytes,
                          double revoked_count);

  // certctl_ocsp_responder_not_after_timestamp_seconds{issuer,generation}.
  void SetResponderExpiry(const std::string& issuer, int generation, TimePoint not_after);

  // certctl_connection_errors_total{listener,stage}: connections that failed
  // before a request was read; stage "accept", "tls_handshake" or
  // "request_timeout" (a request begun but not received in time: a slow or
  // stalled client).
  void CountConnectionError(std::string_view listener, std::string_view stage);

  // certctl_connections_shed_total{listener,reason}: connections closed to
  // make room for a new one; reason "closing" (after its last response),
  // "idle_keepalive" or "awaiting_request".
  void CountConnectionShed(std::string_view listener, std::string_view reason);
  // certctl_connections_refused_total{listener,reason}: "full" (closed at
  // accept: every slot was answering a request) or "reserve" (a reserved
  // slot was asked for an ordinary request: 503). The gauges
  // certctl_connections_open, certctl_connections_busy (answering a
  // request), certctl_connections_limit and
  // certctl_connections_reserved{listener} go with them (Connections).
  void CountConnectionRefused(std::string_view listener, std::string_view reason);

  // Any gauge, e.g. the database pool state sampled at scrape time.
  void SetGauge(const std::string& name, const Labels& labels, double value);

  // The whole exposition, families in name order.
  std::string Render() const;

  // The value of one sample (tests); 0 when absent. `suffix` selects "_sum"
  // or "_count" of a summary.
  double Value(const std::string& name, const Labels& labels,
               std::string_view suffix = "") const;

 private:
  struct Family {
    std::string help;
    std::string type;                       // "counter" or "gauge"
    std::map<std::string, double> samples;  // suffix + rendered label set -> value
  };
  void Declare(const std::string& name, std::string type, std::string help);
  void Add(const std::string& name, const Labels& labels, double delta,
           std::string_view suffix = "");
  void Set(const std::string& name, const Labels& labels, double value);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// `{a="x",b="y"}` with values escaped as the format requires ("" for none).
std::string RenderLabels(const Labels& labels);

}  // namespace certctl::daemon
