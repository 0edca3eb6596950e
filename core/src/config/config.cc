#include "certctl/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>

#include "certctl/config/config_keys.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

extern char** environ;

namespace certctl {
namespace {

using Setter = std::function<Status(Config&, const std::string&)>;
// The value of a key in a configuration, as the file would spell it.
using Getter = std::function<std::string(const Config&)>;

// How a key's value is parsed and shown: its type in the operator's words
// (certctl.yaml(5)), the parser, and the reader that shows a default.
struct Field {
  std::string type;
  Setter set;
  Getter get;
};

// One row of the key table: the loader's parser and certctl.yaml(5)'s
// documentation of the same key, so the page cannot drift from the loader.
struct KeySpec {
  const char* key;
  bool secret;  // also KEY_file / CERTCTL_KEY_FILE; never shown
  Field field;
  const char* meaning;
  const char* example;  // a valid value for the example file; "" : the default
};

std::string EnvName(std::string_view key) {
  std::string out = "CERTCTL_";
  for (char c : key)
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

Status Invalid(std::string_view key, std::string_view value, std::string_view why,
               bool secret = false) {
  std::string shown =
      secret ? std::string(SecretString::kMasked) : "\"" + std::string(value) + "\"";
  return Status::Configuration("invalid value " + shown + " for " + std::string(key) +
                               " (" + EnvName(key) + "): " + std::string(why));
}

Field String(std::string Config::*field, std::string type = "string") {
  return {std::move(type),
          [field](Config& c, const std::string& v) {
            c.*field = v;
            return Status::Ok();
          },
          [field](const Config& c) { return c.*field; }};
}

Field Secret(SecretString Config::*field) {
  return {"secret",
          [field](Config& c, const std::string& v) {
            c.*field = SecretString(v);
            return Status::Ok();
          },
          [](const Config&) { return std::string(); }};
}

// The audit key's length is checked here so that a short one is a
// configuration error at start-up, not a failure at the first audit event.
Field AuditKeySecret() {
  return {"secret, at least 32 characters",
          [](Config& c, const std::string& v) {
            if (v.size() < 32) {
              return Invalid("audit_key", v,
                             "must be at least 32 characters (openssl rand -hex 32)",
                             /*secret=*/true);
            }
            c.audit_key = SecretString(v);
            return Status::Ok();
          },
          [](const Config&) { return std::string(); }};
}

Field Duration(const char* key, std::chrono::seconds Config::*field) {
  return {"duration (90s, 15m, 1h, 7d)",
          [key, field](Config& c, const std::string& v) {
            auto d = ParseDuration(v);
            if (!d.ok())
              return Invalid(key, v, "expected a duration like 90s, 15m, 1h or 7d");
            c.*field = *d;
            return Status::Ok();
          },
          [field](const Config& c) { return FormatDuration(c.*field); }};
}

Field Int(const char* key, int Config::*field, int min, int max) {
  return {"integer, " + std::to_string(min) + " to " + std::to_string(max),
          [=](Config& c, const std::string& v) {
            int n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
              return Invalid(key, v,
                             "expected an integer from " + std::to_string(min) + " to " +
                                 std::to_string(max));
            }
            c.*field = n;
            return Status::Ok();
          },
          [field](const Config& c) { return std::to_string(c.*field); }};
}

Field OneOf(const char* key, std::string Config::*field,
            std::vector<std::string> allowed) {
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return {"one of " + list,
          [=](Config& c, const std::string& v) {
            if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
              return Invalid(key, v, "expected one of " + list);
            }
            c.*field = v;
            return Status::Ok();
          },
          [field](const Config& c) { return c.*field; }};
}

Field ListenAddress(const char* key, std::string Config::*field) {
  return {"host:port",
          [=](Config& c, const std::string& v) {
            auto hp = ParseHostPort(v);
            if (!hp.ok())
              return Invalid(key, v, "expected host:port like 127.0.0.1:8443");
            c.*field = v;
            return Status::Ok();
          },
          [field](const Config& c) { return c.*field; }};
}

const std::vector<KeySpec>& KeyTable() {
  static const std::vector<KeySpec> table = {
      {"data_dir", false, String(&Config::data_dir, "directory"),
       "Dev mode only: where `certctld --dev` keeps its PostgreSQL cluster, CA and "
       "generated configuration.",
       "/var/lib/certctl/dev"},
      {"database_url", true, Secret(&Config::database_url),
       "The PostgreSQL connection, as a libpq URL or key=value string. Prefer a Unix "
       "socket and peer authentication, or database_url_file for a password.",
       "postgresql:///certctl?host=/run/postgresql"},
      {"database_pool_size", false,
       Int("database_pool_size", &Config::database_pool_size, 1, 200),
       "Database connections certctld keeps open (and its worker threads, at least 4).",
       ""},
      {"ca_cert_path", false, String(&Config::ca_cert_path, "file"),
       "The PEM certificate of the CA of issuer iss-local; it must be one of the "
       "issuer's CA generations in the database.",
       "/var/lib/certctl/ca/ca.crt"},
      {"ca_key_path", false, String(&Config::ca_key_path, "file"),
       "The CA's private key (PEM, mode 0600, readable by certctld only). Its "
       "directory must be writable by certctld: each published CRL's number is "
       "recorded beside it, and `ca rotate` writes the next generation's key there.",
       "/var/lib/certctl/ca/ca.key"},
      {"crl_generation_interval", false,
       Duration("crl_generation_interval", &Config::crl_generation_interval),
       "How often certctld regenerates every issuer's CRL; shorter than crl_validity.",
       ""},
      {"crl_validity", false, Duration("crl_validity", &Config::crl_validity),
       "How long a new CRL is valid (nextUpdate); at most 10d.", ""},
      {"ocsp_responder_key_dir", false,
       String(&Config::ocsp_responder_key_dir, "directory"),
       "Where the OCSP responder keys are kept (ISSUER-gN-SERIAL.key, mode 0600); "
       "certctld writes here.",
       ""},
      {"ocsp_responder_validity", false,
       Duration("ocsp_responder_validity", &Config::ocsp_responder_validity),
       "The validity of a new OCSP responder certificate.", ""},
      {"ocsp_responder_renew_before", false,
       Duration("ocsp_responder_renew_before", &Config::ocsp_responder_renew_before),
       "certctld replaces a responder certificate this long before it expires; "
       "shorter than ocsp_responder_validity.",
       ""},
      {"ocsp_response_validity", false,
       Duration("ocsp_response_validity", &Config::ocsp_response_validity),
       "How long an OCSP answer is valid (nextUpdate); 8h to 10d.", ""},
      {"ca_expiry_warning", false,
       Duration("ca_expiry_warning", &Config::ca_expiry_warning),
       "`ca status` warns when the active CA certificate has less time left.", ""},
      {"ca_expiry_critical", false,
       Duration("ca_expiry_critical", &Config::ca_expiry_critical),
       "`ca status` reports an error when the active CA certificate has less time "
       "left; not longer than ca_expiry_warning.",
       ""},
      {"key_backup_retention", false,
       Duration("key_backup_retention", &Config::key_backup_retention),
       "How long a replaced responder key (FILE.bak-STAMP) is kept before `ocsp "
       "prune-backups` and certctld's upkeep remove it; at least 1d.",
       ""},
      {"certificate_default_validity_days", false,
       Int("certificate_default_validity_days",
           &Config::certificate_default_validity_days, 1, 3650),
       "Validity of an issued certificate when the request names none.", ""},
      {"certificate_max_validity_days", false,
       Int("certificate_max_validity_days", &Config::certificate_max_validity_days, 1,
           3650),
       "The longest validity a request may ask for.", ""},
      {"certificate_max_sans", false,
       Int("certificate_max_sans", &Config::certificate_max_sans, 1, 1000),
       "The most subjectAltName entries an issued certificate may carry.", ""},
      {"api_key", true, Secret(&Config::api_key),
       "The admin API key named \"default\" (more keys, with roles, in api_keys).", ""},
      {"config_encryption_key", true, Secret(&Config::config_encryption_key),
       "The key of the database's encrypted configuration columns; back it up outside "
       "the database, with the CA key (certctl-dr(7)).",
       ""},
      {"agent_bootstrap_token", true, Secret(&Config::agent_bootstrap_token),
       "The token agents present when they enrol; a secret the DR checklist rotates "
       "yearly.",
       ""},
      {"audit_key", true, AuditKeySecret(),
       "Signs the audit log (`openssl rand -hex 32`), the same on every host and kept "
       "outside the database. Unset: nothing that writes audit events runs.",
       ""},
      {"audit_anchor_file", false, String(&Config::audit_anchor_file, "file"),
       "This host's record of the audit chain's head, so that `audit verify` sees a "
       "truncated log. Empty: none.",
       "/var/lib/certctl/audit.anchor"},
      {"server_tls_cert_path", false, String(&Config::server_tls_cert_path, "file"),
       "The TLS certificate (PEM, with its chain) of certctld's HTTPS listener.",
       "/etc/certctl/tls.crt"},
      {"server_tls_key_path", false, String(&Config::server_tls_key_path, "file"),
       "Its private key.", "/etc/certctl/tls.key"},
      {"listen_api", false, ListenAddress("listen_api", &Config::listen_api),
       "Where certctld serves HTTPS: the API, health, metrics, and CRLs and OCSP.", ""},
      {"listen_pki", false, ListenAddress("listen_pki", &Config::listen_pki),
       "Where certctld serves CRLs and OCSP over plain HTTP.", ""},
      {"base_url", false, String(&Config::base_url, "URL"),
       "The public URL of the PKI listener, written into issued certificates' CRL "
       "distribution points and OCSP URLs. Empty: http://LISTEN_PKI.",
       "http://pki.example.com"},
      {"listen_api_max_connections", false,
       Int("listen_api_max_connections", &Config::listen_api_max_connections, 1, 1000000),
       "The most connections the API listener holds (fitted under the file "
       "descriptor limit).",
       ""},
      {"listen_api_reserved_connections", false,
       Int("listen_api_reserved_connections", &Config::listen_api_reserved_connections, 0,
           1000000),
       "Of those, how many are kept for /healthz, /readyz, /metrics and admin-key "
       "requests; less than listen_api_max_connections.",
       ""},
      {"listen_pki_max_connections", false,
       Int("listen_pki_max_connections", &Config::listen_pki_max_connections, 1, 1000000),
       "The most connections the PKI listener holds.", ""},
      {"http_read_timeout", false,
       Duration("http_read_timeout", &Config::http_read_timeout),
       "The most time a client gets to send a request's header (also how long an idle "
       "keep-alive connection stays open), and again its body; 1s to 1h.",
       ""},
      {"pid_file", false, String(&Config::pid_file, "file"),
       "certctld's pid file, locked while it runs; `trust reload --signal` reads it. "
       "Empty: none.",
       "/run/certctl/certctld.pid"},
      {"log_level", false,
       OneOf("log_level", &Config::log_level,
             {"trace", "debug", "info", "warn", "error"}),
       "The least severe log messages written.", ""},
      {"log_format", false, OneOf("log_format", &Config::log_format, {"text", "json"}),
       "Log lines as text or as one JSON object each.", ""},
  };
  return table;
}

const KeySpec* FindKey(std::string_view key) {
  for (const auto& spec : KeyTable()) {
    if (key == spec.key) return &spec;
  }
  return nullptr;
}

// Reads a secret from a file, without the trailing newline editors add.
Result<std::string> ReadSecretFile(std::string_view key, const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) {
    return Status::Configuration("cannot read " + std::string(key) + "_file " + path +
                                 ": " + content.status().message());
  }
  std::string v = std::move(content).value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  if (v.empty())
    return Status::Configuration(std::string(key) + "_file " + path + " is empty");
  return v;
}

Result<ApiRole> ParseRole(const std::string& s) {
  if (s == "reader") return ApiRole::kReader;
  if (s == "operator") return ApiRole::kOperator;
  if (s == "admin") return ApiRole::kAdmin;
  return Status::Configuration("invalid api_keys role \"" + s +
                               "\": expected reader, operator or admin");
}

std::string Where(const YAML::Node& node, const std::string& file) {
  return file + ":" + std::to_string(node.Mark().line + 1);
}

Status ParseApiKeys(const YAML::Node& list, const std::string& file, Config& c) {
  if (!list.IsSequence())
    return Status::Configuration(Where(list, file) + ": api_keys must be a list");
  for (const auto& item : list) {
    if (!item.IsMap())
      return Status::Configuration(Where(item, file) + ": api_keys entry must be a map");
    ApiKeyConfig k;
    std::string plain;
    for (const auto& kv : item) {
      std::string field = kv.first.as<std::string>();
      std::string value = kv.second.as<std::string>();
      if (field == "name") {
        k.name = value;
      } else if (field == "role") {
        ASSIGN_OR_RETURN(k.role, ParseRole(value));
      } else if (field == "key") {
        plain = value;
      } else if (field == "key_file") {
        ASSIGN_OR_RETURN(plain, ReadSecretFile("api_keys.key", value));
      } else if (field == "key_sha256") {
        auto raw = HexDecode(value);
        if (!raw.ok() || raw->size() != 32) {
          return Status::Configuration(Where(kv.first, file) +
                                       ": api_keys key_sha256 must be 64 hex digits");
        }
        k.key_sha256 = HexEncode(*raw);
      } else {
        return Status::Configuration(Where(kv.first, file) +
                                     ": unknown api_keys field \"" + field +
                                     "\" (name, role, key, key_file, key_sha256)");
      }
    }
    if (k.name.empty())
      return Status::Configuration(Where(item, file) + ": api_keys entry needs a name");
    if (plain.empty() == k.key_sha256.empty()) {
      return Status::Configuration(Where(item, file) + ": api_keys entry " + k.name +
                                   " needs exactly one of key, key_file, key_sha256");
    }
    if (!plain.empty()) k.key_sha256 = Sha256Hex(plain);
    Cleanse(plain);
    c.api_keys.push_back(std::move(k));
  }
  return Status::Ok();
}

Status ParseTrustAnchors(const YAML::Node& list, const std::string& file, Config& c) {
  if (!list.IsSequence()) {
    return Status::Configuration(Where(list, file) + ": trust_anchors must be a list");
  }
  for (const auto& item : list) {
    TrustAnchorConfig t;
    if (!item.IsMap() || !item["name"] || !item["path"] || item.size() != 2) {
      return Status::Configuration(Where(item, file) +
                                   ": trust_anchors entry needs exactly name and path");
    }
    t.name = item["name"].as<std::string>();
    t.path = item["path"].as<std::string>();
    c.trust_anchors.push_back(std::move(t));
  }
  return Status::Ok();
}

Status ApplyYaml(const std::string& file, Config& c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    return Status::Configuration("cannot read config file " + file);
  } catch (const YAML::Exception& e) {
    return Status::Configuration("config file " + file +
                                 " is not valid YAML: " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap())
    return Status::Configuration("config file " + file + " must be a YAML map");
  try {
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key == "api_keys") {
        RETURN_IF_ERROR(ParseApiKeys(kv.second, file, c));
        continue;
      }
      if (key == "trust_anchors") {
        RETURN_IF_ERROR(ParseTrustAnchors(kv.second, file, c));
        continue;
      }
      if (!kv.second.IsScalar()) {
        return Status::Configuration(Where(kv.first, file) + ": " + key +
                                     " must be a single value");
      }
      std::string value = kv.second.as<std::string>();
      if (key.size() > 5 && key.ends_with("_file")) {
        const KeySpec* spec = FindKey(key.substr(0, key.size() - 5));
        if (spec && spec->secret) {
          ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(spec->key, value));
          Status s = spec->field.set(c, secret);
          Cleanse(secret);
          RETURN_IF_ERROR(s);
          continue;
        }
      }
      const KeySpec* spec = FindKey(key);
      if (!spec) {
        return Status::Configuration(Where(kv.first, file) + ": unknown key \"" + key +
                                     "\"");
      }
      RETURN_IF_ERROR(spec->field.set(c, value));
    }
  } catch (const YAML::Exception& e) {
    return Status::Configuration("config file " + file + ": " + e.what());
  }
  return Status::Ok();
}

Status ApplyEnvironment(const std::map<std::string, std::string>& env, Config& c) {
  for (const auto& spec : KeyTable()) {
    std::string name = EnvName(spec.key);
    auto direct = env.find(name);
    auto file = spec.secret ? env.find(name + "_FILE") : env.end();
    if (direct != env.end() && file != env.end()) {
      return Status::Configuration("both " + name + " and " + name +
                                   "_FILE are set; set one");
    }
    if (direct != env.end()) {
      RETURN_IF_ERROR(spec.field.set(c, direct->second));
    } else if (file != env.end()) {
      ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(name, file->second));
      Status s = spec.field.set(c, secret);
      Cleanse(secret);
      RETURN_IF_ERROR(s);
    }
  }
  return Status::Ok();
}

Status Validate(Config& c) {
  using std::chrono::hours;
  if (c.crl_validity > hours(24 * 10)) {
    return Invalid("crl_validity", FormatDuration(c.crl_validity), "must not exceed 10d");
  }
  if (c.crl_generation_interval >= c.crl_validity) {
    return Invalid("crl_generation_interval", FormatDuration(c.crl_generation_interval),
                   "must be shorter than crl_validity (" +
                       FormatDuration(c.crl_validity) +
                       ") so a CRL never expires between runs");
  }
  if (c.ocsp_response_validity < hours(8) || c.ocsp_response_validity > hours(24 * 10)) {
    return Invalid("ocsp_response_validity", FormatDuration(c.ocsp_response_validity),
                   "must be between 8h and 10d (CA/Browser Forum)");
  }
  if (c.ocsp_responder_renew_before >= c.ocsp_responder_validity) {
    return Invalid("ocsp_responder_renew_before",
                   FormatDuration(c.ocsp_responder_renew_before),
                   "must be shorter than ocsp_responder_validity");
  }
  if (c.ca_expiry_critical > c.ca_expiry_warning) {
    return Invalid("ca_expiry_critical", FormatDuration(c.ca_expiry_critical),
                   "must not be longer than ca_expiry_warning (" +
                       FormatDuration(c.ca_expiry_warning) + ")");
  }
  if (c.key_backup_retention < hours(24)) {
    return Invalid("key_backup_retention", FormatDuration(c.key_backup_retention),
                   "must be at least 1d: a replaced key is kept for a while in case it "
                   "is needed back");
  }
  if (c.certificate_default_validity_days > c.certificate_max_validity_days) {
    return Invalid("certificate_default_validity_days",
                   std::to_string(c.certificate_default_validity_days),
                   "must not exceed certificate_max_validity_days");
  }
  if (c.listen_api_reserved_connections >= c.listen_api_max_connections) {
    return Invalid("listen_api_reserved_connections",
                   std::to_string(c.listen_api_reserved_connections),
                   "must be less than listen_api_max_connections (" +
                       std::to_string(c.listen_api_max_connections) + ")");
  }
  if (c.http_read_timeout < std::chrono::seconds(1) ||
      c.http_read_timeout > std::chrono::hours(1)) {
    return Invalid("http_read_timeout", FormatDuration(c.http_read_timeout),
                   "must be between 1s and 1h");
  }
  if (c.base_url.empty()) c.base_url = "http://" + c.listen_pki;
  while (c.base_url.size() > 1 && c.base_url.back() == '/') c.base_url.pop_back();
  if (c.base_url.rfind("http://", 0) != 0 && c.base_url.rfind("https://", 0) != 0) {
    return Invalid("base_url", c.base_url, "must start with http:// or https://");
  }
  if (c.base_url.find_first_of(", \t\"'") != std::string::npos) {
    return Invalid("base_url", c.base_url, "must not contain spaces, quotes or commas");
  }
  if (!c.api_key.empty()) {
    for (const auto& k : c.api_keys) {
      if (k.name == "default") {
        return Status::Configuration(
            "api_keys has an entry named \"default\", the name reserved for "
            "CERTCTL_API_KEY");
      }
    }
    c.api_keys.push_back({"default", ApiRole::kAdmin, Sha256Hex(c.api_key.view())});
  }
  for (size_t i = 0; i < c.trust_anchors.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (c.trust_anchors[i].name == c.trust_anchors[j].name) {
        return Status::Configuration("trust_anchors lists \"" + c.trust_anchors[i].name +
                                     "\" twice");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view ApiRoleName(ApiRole role) {
  switch (role) {
    case ApiRole::kReader:
      return "reader";
    case ApiRole::kOperator:
      return "operator";
    case ApiRole::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::map<std::string, std::string> CertctlEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    if (entry.rfind("CERTCTL_", 0) != 0) continue;
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

std::vector<std::string> ConfigEnvironmentNames() {
  std::vector<std::string> out;
  for (const auto& spec : KeyTable()) out.push_back(EnvName(spec.key));
  return out;
}

std::vector<ConfigKeyInfo> ConfigKeys() {
  const Config defaults;
  std::vector<ConfigKeyInfo> out;
  for (const auto& spec : KeyTable()) {
    std::string shown = spec.field.get(defaults);
    out.push_back({.key = spec.key,
                   .environment = EnvName(spec.key),
                   .type = spec.field.type,
                   .default_value = shown,
                   .meaning = spec.meaning,
                   .example = *spec.example ? spec.example : shown,
                   .secret = spec.secret});
  }
  return out;
}

Result<Config> LoadConfig(const ConfigLoadOptions& options) {
  Config c;
  std::string path = options.path.empty() ? kDefaultConfigPath : options.path;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    RETURN_IF_ERROR(ApplyYaml(path, c));
    c.source_path = path;
  } else if (options.path_is_explicit) {
    return Status::Configuration("config file " + path + " does not exist");
  }
  auto env = options.environment ? *options.environment : CertctlEnvironment();
  RETURN_IF_ERROR(ApplyEnvironment(env, c));
  RETURN_IF_ERROR(Validate(c));
  return c;
}

std::string Config::MaskedDatabaseUrl() const {
  return MaskDatabaseUrl(database_url.view());
}

std::string MaskDatabaseUrl(std::string_view url) {
  std::string out(url);
  const std::string mask(SecretString::kMasked);
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t at = out.find('@', start);
    size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at)
        out.replace(colon + 1, at - colon - 1, mask);
    }
  }
  // key=value form and ?password= in URLs.
  for (std::string key : {"password="}) {
    size_t pos = 0;
    while ((pos = out.find(key, pos)) != std::string::npos) {
      size_t begin = pos + key.size();
      size_t end = out.find_first_of(" &", begin);
      if (end == std::string::npos) end = out.size();
      out.replace(begin, end - begin, mask);
      pos = begin + mask.size();
    }
  }
  return out;
}

Result<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("expected host:port, got \"" + std::string(text) +
                                   "\"");
  }
  std::string host(text.substr(0, colon));
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [p, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535 ||
      host.empty()) {
    return Status::InvalidArgument("expected host:port, got \"" + std::string(text) +
                                   "\"");
  }
  return HostPort{host, static_cast<uint16_t>(port)};
}

}  // namespace certctl
