// certctl configuration: one YAML file, every key overridable by a CERTCTL_*
// environment variable.
//
// Precedence, lowest first: built-in default < YAML file < environment. A key
// `foo_bar` in the file is `CERTCTL_FOO_BAR` in the environment. Secrets
// (database_url, api_key, config_encryption_key, agent_bootstrap_token,
// audit_key) can
// instead be read from a file: `api_key_file:` / `CERTCTL_API_KEY_FILE`.
// An invalid value is a Configuration error naming the key and the value
// (never the value of a secret); unknown keys in the file are errors too.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "certctl/util/secret.h"
#include "certctl/util/status.h"

namespace certctl {

inline constexpr char kDefaultConfigPath[] = "/etc/certctl/certctl.yaml";
inline constexpr char kLocalIssuerId[] = "iss-local";

enum class ApiRole { kReader, kOperator, kAdmin };
std::string_view ApiRoleName(ApiRole role);

// A named API key. Exactly one of `key` (plain secret) and `key_sha256` (hex
// digest of the secret) is set; keys are compared by digest in constant time.
struct ApiKeyConfig {
  std::string name;
  ApiRole role = ApiRole::kAdmin;
  std::string key_sha256;  // lowercase hex; derived from the plain key when given
};

struct TrustAnchorConfig {
  std::string name;
  std::string path;
};

struct Config {
  std::string source_path;  // the YAML file read, empty when none

  // Where dev mode keeps its cluster, CA and generated config (dev only).
  std::string data_dir;
  bool dev = false;

  SecretString database_url;   // CERTCTL_DATABASE_URL (libpq URL or key=value)
  int database_pool_size = 8;  // CERTCTL_DATABASE_POOL_SIZE, 1..200

  std::string ca_cert_path;  // CERTCTL_CA_CERT_PATH (issuer iss-local)
  std::string ca_key_path;   // CERTCTL_CA_KEY_PATH

  std::chrono::seconds crl_generation_interval = std::chrono::hours(1);
  std::chrono::seconds crl_validity = std::chrono::hours(24 * 7);  // max 10d
  std::string ocsp_responder_key_dir = "/var/lib/certctl/ocsp-responder-keys";
  std::chrono::seconds ocsp_responder_validity = std::chrono::hours(24 * 30);
  std::chrono::seconds ocsp_responder_renew_before = std::chrono::hours(24 * 7);
  std::chrono::seconds ocsp_response_validity = std::chrono::hours(24 * 4);  // 8h..10d
  // CERTCTL_KEY_BACKUP_RETENTION: how long a replaced responder key file
  // (<key>.bak-<stamp> in ocsp_responder_key_dir) is kept before `ocsp
  // prune-backups` and certctld's upkeep remove it; at least 1d.
  std::chrono::seconds key_backup_retention = std::chrono::hours(24 * 30);

  // `ca status`: less time left on the active CA certificate than this is a
  // warning, less than critical an error (critical <= warning).
  std::chrono::seconds ca_expiry_warning = std::chrono::hours(24 * 365);
  std::chrono::seconds ca_expiry_critical = std::chrono::hours(24 * 90);

  int certificate_default_validity_days = 90;  // when a request names none
  int certificate_max_validity_days = 398;     // CA/B Forum ceiling for TLS
  // subjectAltName entries an issued certificate may carry, 1..1000.
  int certificate_max_sans = 100;  // CERTCTL_CERTIFICATE_MAX_SANS

  SecretString api_key;                // CERTCTL_API_KEY: the "default" admin key
  std::vector<ApiKeyConfig> api_keys;  // named keys (file only), plus "default"
  SecretString config_encryption_key;  // CERTCTL_CONFIG_ENCRYPTION_KEY
  SecretString agent_bootstrap_token;  // CERTCTL_AGENT_BOOTSTRAP_TOKEN
  // CERTCTL_AUDIT_KEY: signs the audit log (certctl/audit/audit_key.h); at
  // least 32 characters. Unset: nothing that writes audit events runs.
  SecretString audit_key;
  // CERTCTL_AUDIT_ANCHOR_FILE: this host's record of the audit chain's head
  // (certctl/audit/anchor.h). Empty: none, and truncation goes unseen.
  std::string audit_anchor_file;

  std::string server_tls_cert_path;           // CERTCTL_SERVER_TLS_CERT_PATH
  std::string server_tls_key_path;            // CERTCTL_SERVER_TLS_KEY_PATH
  std::string listen_api = "127.0.0.1:8443";  // CERTCTL_LISTEN_API
  std::string listen_pki = "127.0.0.1:8080";  // CERTCTL_LISTEN_PKI
  std::string base_url;  // CERTCTL_BASE_URL; default http://<listen_pki>
  // Connection caps per listener (certctld fits them under RLIMIT_NOFILE).
  // Of the API listener's slots, `reserved` are kept for /healthz, /readyz,
  // /metrics and admin-key requests; less than the cap.
  int listen_api_max_connections = 512;      // 1..1000000
  int listen_api_reserved_connections = 16;  // 0..1000000
  int listen_pki_max_connections = 2048;     // 1..1000000
  // The most time a client gets to send a request's header (also how long an
  // idle keep-alive connection stays open), and again its body: 1s..1h.
  std::chrono::seconds http_read_timeout = std::chrono::seconds(30);

  std::vector<TrustAnchorConfig> trust_anchors;  // file only
  std::string pid_file;                          // CERTCTL_PID_FILE; empty: none
  std::string log_level = "info";                // trace, debug, info, warn, error
  std::string log_format = "text";               // text or json

  // The database URL with any password replaced by "********", for messages.
  std::string MaskedDatabaseUrl() const;
};

struct ConfigLoadOptions {
  // The file to read. When empty, kDefaultConfigPath is read if it exists.
  // When set explicitly, a missing file is an error.
  std::string path;
  bool path_is_explicit = false;
  // The environment; tests pass their own. Default: the process environment.
  std::optional<std::map<std::string, std::string>> environment;
};

Result<Config> LoadConfig(const ConfigLoadOptions& options);

// The environment variable of every scalar configuration key, in table
// order: "CERTCTL_DATABASE_URL", ... (for documentation and its tests).
std::vector<std::string> ConfigEnvironmentNames();

// The process environment as a map (only CERTCTL_* entries).
std::map<std::string, std::string> CertctlEnvironment();

// Replaces the password in a libpq URL or key=value string.
std::string MaskDatabaseUrl(std::string_view url);

// Splits "host:port" ("[::1]:8443" for IPv6). InvalidArgument when malformed.
struct HostPort {
  std::string host;
  uint16_t port;
};
Result<HostPort> ParseHostPort(std::string_view text);

}  // namespace certctl
