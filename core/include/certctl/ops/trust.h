// Trust bundles (SCEP/Intune, EST mTLS client CAs): checking a PEM bundle and
// reloading it atomically.
//
// The reload semantics of the runbook: a bad reload (unreadable file, parse
// error, empty bundle, expired or not-yet-valid certificate) keeps the OLD
// pool in place and returns a typed error; the swap is atomic; a request
// that started before the swap keeps using its snapshot.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/net/http_client.h"
#include "certctl/ops/op.h"
#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"

namespace certctl::ops {

// Why a bundle was refused; the names are stable (JSON, API errors).
enum class TrustProblem { kUnreadable, kGarbage, kEmpty, kExpired, kNotYetValid };
std::string_view TrustProblemName(TrustProblem problem);  // "unreadable", "garbage", ...

struct TrustBundleEntry {
  std::string subject;
  std::string issuer;
  std::string serial;
  std::string fingerprint_sha256;
  TimePoint not_before;
  TimePoint not_after;
};

struct TrustBundleCheck {
  std::vector<TrustBundleEntry> entries;  // what parsed, in order
  std::optional<TrustProblem> problem;    // empty: the bundle is good
  std::string message;                    // the exact reason, naming the entry
  bool ok() const { return !problem.has_value(); }
};

TrustBundleCheck CheckTrustBundle(std::string_view pem, TimePoint now);
TrustBundleCheck CheckTrustBundleFile(const std::string& path, TimePoint now);

// An immutable, loaded bundle.
struct TrustPool {
  std::string name;
  std::string path;
  std::vector<TrustBundleEntry> entries;
  UniquePtr<X509_STORE> store;  // for verifying client certificates
  TimePoint loaded_at;
  std::string fingerprint;  // SHA-256 of the file content
};

// Holds one named bundle. Thread-safe; Snapshot() never blocks on a reload.
class TrustAnchorHolder {
 public:
  TrustAnchorHolder(std::string name, std::string path);
  // The current pool; null until the first successful load.
  std::shared_ptr<const TrustPool> Snapshot() const;
  // Reads and checks the file; on success swaps the pool in, on failure keeps
  // the old one. Returns the check (with the problem on failure).
  TrustBundleCheck Reload(TimePoint now);
  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }

 private:
  std::string name_, path_;
  mutable std::mutex mu_;
  std::shared_ptr<const TrustPool> pool_;
};

// All configured bundles, by name.
class TrustAnchorRegistry {
 public:
  explicit TrustAnchorRegistry(const std::vector<TrustAnchorConfig>& bundles);
  TrustAnchorHolder* Find(const std::string& name);
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::unique_ptr<TrustAnchorHolder>> holders_;
};

// One bundle's reload.
struct TrustBundleReloaded {
  std::string name;
  std::string path;
  std::optional<TrustProblem> problem;  // set: refused, the previous pool stays
  std::string message;                  // why it was refused ("" when reloaded)
  int64_t certificates = 0;             // parsed from the file
  std::string fingerprint;              // SHA-256 of the file now loaded ("": none)
  std::string previous_fingerprint;     // of the one loaded before ("": none)
  bool reloaded() const { return !problem.has_value(); }
};

struct TrustReload {
  // As certctld reports them; in a dry run, as it would (no fingerprints).
  std::vector<TrustBundleReloaded> bundles;
  bool refused() const;  // some bundle was refused
  // "refused to reload; <name>: <problem>: <message>..." or "" when none was.
  std::string RefusalMessage() const;
};

// The one reload procedure, used by SIGHUP and the admin API endpoint (which
// `certctl-admin trust reload` calls). `name` empty: every bundle. NotFound
// for an unknown name. A refused bundle (its old pool stays) is not an error
// of the call: the result lists it, it is an error finding
// "trust.<problem>", and the run's audit event ("trust.reload") says failed.
Result<TrustReload> ReloadTrustAnchors(OpContext& ctx, TrustAnchorRegistry& registry,
                                       const std::string& name, OpReport& report);

// certctld's start-up: loads every configured bundle once. A refused bundle
// is logged at error level (its endpoint has no pool until a reload
// succeeds); nothing is audited.
void LoadTrustAnchors(TrustAnchorRegistry& registry, TimePoint now,
                      spdlog::logger& logger);

// What certctld did about its latest SIGHUP, written (atomically, 0644, no
// secret in it) to SignalReloadPath(config.pid_file) so that `certctl-admin
// trust reload --signal` can tell the operator the outcome without the API
// or the database.
struct SignalReload {
  int pid = 0;           // the certctld that reloaded
  TimePoint started_at;  // when it began, after the signal arrived
  Status status;         // why it reloaded nothing (e.g. the audit event failed)
  std::vector<TrustBundleReloaded> bundles;  // each configured bundle's outcome
  std::string tls_error;  // why the TLS certificate was kept ("": reloaded)
};
// "<pid_file>.reload".
std::string SignalReloadPath(const std::string& pid_file);
Status WriteSignalReload(const std::string& path, const SignalReload& reload);
// NotFound when there is none yet; Corruption when it does not parse.
Result<SignalReload> ReadSignalReload(const std::string& path);

// `certctl-admin trust reload`: asks the running certctld to reload, through
// its admin API (POST /api/v1/admin/trust-anchors/{name}/reload with
// config.api_key) or, with `signal`, by SIGHUP to the pid in
// config.pid_file. Audited as "trust.reload.request"; not locked. Dry run:
// checks each named bundle's configured file and plans, sends nothing.
// A bundle certctld refused is in the result and an error finding (the audit
// event says failed), as with ReloadTrustAnchors; the other answers are
// errors: Unauthenticated (401), PermissionDenied (403), NotFound (404),
// Unavailable (5xx, unreachable), Configuration (no API key or pid_file).
// A dry run with no name checks every configured bundle; a real one asks
// certctld for every bundle it has. No bundle at all is not an error: a
// warning finding "trust.none_configured" says so.
//
// With `signal` it sends SIGHUP and waits, up to signal_wait, for certctld's
// SignalReload record of a reload that began after the signal: its bundles
// are the result (a refused one is an error finding, as above), its status
// the error (Unavailable when certctld could not write its audit event), a
// refused TLS certificate a warning finding "tls.refused"; no record in time
// is Unavailable. Neither `signal` nor a dry run uses the database: the
// request is audited only when it goes through the API (certctld audits
// every reload itself, a SIGHUP one with the command line "SIGHUP"). A dry
// run predicts: a bundle certctld would refuse is an error finding
// "trust.<problem>", as when it does, and a name that is not configured is
// NotFound, as certctld's answer would be.
struct TrustReloadRequest {
  std::string name;     // the bundle; empty: every bundle
  std::string api_url;  // e.g. "https://127.0.0.1:8443"
  bool signal = false;
  const net::HttpClient* client = nullptr;  // for the API; not used with `signal`
  std::chrono::milliseconds signal_wait{10000};
};
Result<TrustReload> RequestTrustReload(OpContext& ctx, const TrustReloadRequest& request,
                                       OpReport& report);

struct TrustBundleChecked {
  std::string path;
  TrustBundleCheck check;
};

// `certctl-admin trust check FILE`: an error finding "trust.<problem>" when
// the bundle would be refused. Never fails.
Result<TrustBundleChecked> CheckTrustBundleReport(const std::string& path, TimePoint now,
                                                  OpReport& report);

}  // namespace certctl::ops
