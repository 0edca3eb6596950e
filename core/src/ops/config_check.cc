#include "certctl/ops/config_check.h"

#include "certctl/log/logging.h"
#include "certctl/net/listen.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/ops/db_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/trust.h"
#include "certctl/pki/server_tls.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

// Collects the checks and their findings in one place.
class Checks {
 public:
  Checks(ConfigChecked& out, OpReport& report) : out_(out), report_(report) {}

  void Ok(std::string name, std::string subject, std::string message) {
    Add(std::move(name), std::move(subject), StartupCheckState::kOk, std::move(message));
  }
  // An error status is an error (or, `as_warning`, a warning); OK is ok with
  // `ok_message`.
  bool From(std::string name, std::string subject, const Status& s,
            std::string ok_message, bool as_warning = false) {
    if (s.ok()) {
      Ok(std::move(name), std::move(subject), std::move(ok_message));
      return true;
    }
    Add(std::move(name), std::move(subject),
        as_warning ? StartupCheckState::kWarning : StartupCheckState::kError,
        s.message());
    return false;
  }
  void Warn(std::string name, std::string subject, std::string message) {
    Add(std::move(name), std::move(subject), StartupCheckState::kWarning,
        std::move(message));
  }
  void Skip(std::string name, std::string subject, std::string why) {
    Add(std::move(name), std::move(subject), StartupCheckState::kSkipped, std::move(why));
  }

 private:
  void Add(std::string name, std::string subject, StartupCheckState state,
           std::string message) {
    if (state == StartupCheckState::kError || state == StartupCheckState::kWarning) {
      report_.AddFinding(state == StartupCheckState::kError ? "error" : "warning",
                         "config." + name, subject, message);
    }
    out_.checks.push_back(
        {std::move(name), std::move(subject), state, std::move(message)});
  }
  ConfigChecked& out_;
  OpReport& report_;
};

constexpr char kNoDatabase[] = "not checked: the database is unreachable";

// The CA, as RegisterConfiguredCa would find it at start-up.
void CheckCa(OpContext& ctx, Checks& checks) {
  const Config& c = ctx.config;
  OpReport ca_report;
  auto ca =
      CheckConfiguredCa(ctx, kLocalIssuerId, c.ca_cert_path, c.ca_key_path, ca_report);
  if (!ca.ok()) {
    checks.From("ca", c.ca_cert_path, ca.status(), "");
    return;
  }
  std::string message =
      ca->registered
          ? "would be registered as generation 1 of " + std::string(kLocalIssuerId)
          : "generation " + std::to_string(ca->configured_generation) + " of " +
                kLocalIssuerId + "; the active generation " +
                std::to_string(ca->generation) + " signs with " + ca->active_key_path;
  checks.Ok("ca", c.ca_cert_path,
            message + " (notAfter " + FormatRfc3339(ca->not_after) + ")");
  for (const auto& f : ca_report.findings) checks.Warn("ca", f.subject, f.message);
}

void CheckListeners(const Config& c, const ConfigCheckOptions& options, Checks& checks) {
  const std::pair<const char*, const std::string*> listeners[] = {
      {"listen_api", &c.listen_api}, {"listen_pki", &c.listen_pki}};
  for (const auto& [name, address] : listeners) {
    std::string key = std::string(name) + " (CERTCTL_" +
                      (std::string(name) == "listen_api" ? "LISTEN_API" : "LISTEN_PKI") +
                      ")";
    Status s = net::ProbeListenAddress(*address, key);
    if (s.code() == StatusCode::kAlreadyExists && options.addresses_in_use_expected) {
      checks.Warn(
          name, *address,
          s.message() + " (expected: the running certctld holds it until it stops)");
      continue;
    }
    checks.From(name, *address, s, "free: certctld could listen on " + *address);
  }
}

void CheckTrustAnchors(const Config& c, TimePoint now, Checks& checks) {
  for (const auto& anchor : c.trust_anchors) {
    TrustBundleCheck check = CheckTrustBundleFile(anchor.path, now);
    std::string name = "trust_anchor:" + anchor.name;
    if (check.ok()) {
      checks.Ok(name, anchor.path,
                std::to_string(check.entries.size()) + " certificate(s)");
    } else {
      // certctld starts, but this bundle's endpoint has no pool until a reload.
      checks.Warn(name, anchor.path,
                  check.message + " (certctld would start without this bundle)");
    }
  }
}

// Everything that needs the database, in start-up order.
void CheckWithDatabase(const Config& config, const Clock& clock, const Actor& actor,
                       Checks& checks) {
  auto db = Database::Open({.url = std::string(config.database_url.view()),
                            .pool_size = 2,
                            .application_name = "certctl-admin"});
  if (!checks.From("database", config.MaskedDatabaseUrl(), db.status(), "reachable")) {
    checks.Skip("schema", "schema_migrations", kNoDatabase);
    checks.Skip("audit_key", "audit_key (CERTCTL_AUDIT_KEY)", kNoDatabase);
    checks.Skip("ca", config.ca_cert_path, kNoDatabase);
    return;
  }
  if (!checks.From("schema", "schema_migrations", RequireCurrentSchema(**db),
                   "current")) {
    checks.Skip("audit_key", "audit_key (CERTCTL_AUDIT_KEY)",
                "not checked: the schema is not current");
    checks.Skip("ca", config.ca_cert_path, "not checked: the schema is not current");
    return;
  }
  // The checks' warnings are checks of their own (audit_anchor_file below).
  CaKeyring keyring;
  OpContext ctx{**db, config, clock, NullLogger(), keyring, actor};
  checks.From("audit_key", "audit_key (CERTCTL_AUDIT_KEY)", CheckAuditSetup(ctx),
              "configured, and the key the audit log is signed with");
  if (config.audit_anchor_file.empty()) {
    checks.Warn("audit_anchor_file", "audit_anchor_file (CERTCTL_AUDIT_ANCHOR_FILE)",
                "not set: deleting the newest audit events would not be detected");
  }
  if (config.ca_cert_path.empty() || config.ca_key_path.empty()) {
    checks.Skip("ca", "ca_cert_path", "not checked: no CA configured");
    return;
  }
  CheckCa(ctx, checks);
}

}  // namespace

std::string_view StartupCheckStateName(StartupCheckState state) {
  switch (state) {
    case StartupCheckState::kOk:
      return "ok";
    case StartupCheckState::kWarning:
      return "warning";
    case StartupCheckState::kError:
      return "error";
    case StartupCheckState::kSkipped:
      return "skipped";
  }
  return "error";
}

Result<ConfigChecked> CheckConfiguration(const Config& config, const Clock& clock,
                                         const Actor& actor,
                                         const ConfigCheckOptions& options,
                                         OpReport& report) {
  auto started = std::chrono::steady_clock::now();
  report.operation = "config.check";
  report.target = config.source_path;
  ConfigChecked out;
  out.config_file = config.source_path;
  Checks checks(out, report);
  checks.From("ca_files", "ca_cert_path, ca_key_path", RequireConfiguredCaFiles(config),
              config.ca_cert_path + ", " + config.ca_key_path);
  CheckWithDatabase(config, clock, actor, checks);
  // Then what certctld's Serve does before it listens.
  CheckTrustAnchors(config, clock.Now(), checks);
  checks.From(
      "server_tls", config.server_tls_cert_path,
      LoadServerTlsMaterial(config.server_tls_cert_path, config.server_tls_key_path)
          .status(),
      "certificate and key load and match (key " + config.server_tls_key_path + ")");
  CheckListeners(config, options, checks);
  out.would_start = true;
  for (const auto& c : out.checks) {
    if (c.state == StartupCheckState::kError) out.would_start = false;
  }
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return out;
}

}  // namespace certctl::ops
