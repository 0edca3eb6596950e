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

// The one reload procedure, used by SIGHUP, the admin API endpoint and (via
// that endpoint) `certctl-admin trust reload`. `name` empty: every bundle.
// NotFound for an unknown name. For each bundle report.data["bundles"] gets
// {name, path, reloaded, problem, message, certificates, fingerprint}; the
// status is FailedPrecondition when any bundle was refused (its old pool
// stays). Writes one audit event per run ("trust.reload").
Status ReloadTrustAnchors(OpContext& ctx, TrustAnchorRegistry& registry,
                          const std::string& name, OpReport& report);

// `certctl-admin trust check FILE`: report.data {path, certificates[],
// problem, message}; an error finding "trust.<problem>" when refused.
Status CheckTrustBundleReport(const std::string& path, TimePoint now, OpReport& report);

}  // namespace certctl::ops
