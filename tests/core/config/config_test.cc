#include "certctl/config/config.h"

#include <gtest/gtest.h>

#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

using Env = std::map<std::string, std::string>;

Result<Config> Load(const Env& env, const std::string& path = "",
                    bool explicit_path = false) {
  ConfigLoadOptions o;
  o.path = path.empty() ? "/nonexistent/certctl.yaml" : path;
  o.path_is_explicit = explicit_path;
  o.environment = env;
  return LoadConfig(o);
}

TEST(ConfigTest, DefaultsWithoutFileOrEnvironment) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_api, "127.0.0.1:8443");
  EXPECT_EQ(c->listen_pki, "127.0.0.1:8080");
  EXPECT_EQ(c->base_url, "http://127.0.0.1:8080");
  EXPECT_EQ(c->crl_generation_interval, std::chrono::hours(1));
  EXPECT_EQ(c->crl_validity, std::chrono::hours(24 * 7));
  EXPECT_EQ(c->ocsp_response_validity, std::chrono::hours(24 * 4));
  EXPECT_TRUE(c->api_keys.empty());
}

// Each documented environment variable overrides its key.
TEST(ConfigTest, EachEnvironmentVariableOverrides) {
  Env env = {
      {"CERTCTL_DATABASE_URL", "postgresql://u:pw@db/certctl"},
      {"CERTCTL_CA_CERT_PATH", "/etc/certctl/ca.crt"},
      {"CERTCTL_CA_KEY_PATH", "/etc/certctl/ca.key"},
      {"CERTCTL_CRL_GENERATION_INTERVAL", "15m"},
      {"CERTCTL_OCSP_RESPONDER_KEY_DIR", "/var/lib/keys"},
      {"CERTCTL_API_KEY", "k-123"},
      {"CERTCTL_CONFIG_ENCRYPTION_KEY", "enc"},
      {"CERTCTL_AGENT_BOOTSTRAP_TOKEN", "boot"},
      {"CERTCTL_SERVER_TLS_CERT_PATH", "/tls.crt"},
      {"CERTCTL_SERVER_TLS_KEY_PATH", "/tls.key"},
      {"CERTCTL_LISTEN_API", "0.0.0.0:9443"},
      {"CERTCTL_LISTEN_PKI", "[::1]:9080"},
      {"CERTCTL_BASE_URL", "https://pki.example.com/"},
  };
  auto c = Load(env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url.view(), "postgresql://u:pw@db/certctl");
  EXPECT_EQ(c->ca_cert_path, "/etc/certctl/ca.crt");
  EXPECT_EQ(c->ca_key_path, "/etc/certctl/ca.key");
  EXPECT_EQ(c->crl_generation_interval, std::chrono::minutes(15));
  EXPECT_EQ(c->ocsp_responder_key_dir, "/var/lib/keys");
  EXPECT_EQ(c->api_key.view(), "k-123");
  EXPECT_EQ(c->config_encryption_key.view(), "enc");
  EXPECT_EQ(c->agent_bootstrap_token.view(), "boot");
  EXPECT_EQ(c->server_tls_cert_path, "/tls.crt");
  EXPECT_EQ(c->server_tls_key_path, "/tls.key");
  EXPECT_EQ(c->listen_api, "0.0.0.0:9443");
  EXPECT_EQ(c->listen_pki, "[::1]:9080");
  EXPECT_EQ(c->base_url, "https://pki.example.com");  // trailing slash dropped
  ASSERT_EQ(c->api_keys.size(), 1u);
  EXPECT_EQ(c->api_keys[0].name, "default");
  EXPECT_EQ(c->api_keys[0].key_sha256, Sha256Hex("k-123"));
  EXPECT_EQ(c->MaskedDatabaseUrl(), "postgresql://u:********@db/certctl");
}

TEST(ConfigTest, EnvironmentBeatsFile) {
  testing::TempDir dir;
  std::string file = dir / "certctl.yaml";
  ASSERT_TRUE(WriteFileAtomic(file,
                              "database_url: host=/tmp dbname=a\n"
                              "crl_validity: 3d\n"
                              "listen_api: 127.0.0.1:1111\n")
                  .ok());
  auto c = Load({{"CERTCTL_LISTEN_API", "127.0.0.1:2222"}}, file, true);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source_path, file);
  EXPECT_EQ(c->database_url.view(), "host=/tmp dbname=a");
  EXPECT_EQ(c->crl_validity, std::chrono::hours(72));
  EXPECT_EQ(c->listen_api, "127.0.0.1:2222");
}

TEST(ConfigTest, BadDurationNamesKeyAndValue) {
  for (const char* key :
       {"CERTCTL_CRL_GENERATION_INTERVAL", "CERTCTL_CRL_VALIDITY",
        "CERTCTL_OCSP_RESPONDER_VALIDITY", "CERTCTL_OCSP_RESPONSE_VALIDITY"}) {
    auto c = Load({{key, "soon"}});
    ASSERT_FALSE(c.ok()) << key;
    EXPECT_EQ(c.status().code(), StatusCode::kConfiguration);
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("\"soon\""), std::string::npos);
  }
  auto c = Load({{"CERTCTL_CRL_GENERATION_INTERVAL", "90"}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("crl_generation_interval"), std::string::npos);
}

TEST(ConfigTest, LimitsAreEnforced) {
  auto c = Load({{"CERTCTL_CRL_VALIDITY", "11d"}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("10d"), std::string::npos);
  EXPECT_FALSE(Load({{"CERTCTL_OCSP_RESPONSE_VALIDITY", "1h"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_OCSP_RESPONSE_VALIDITY", "11d"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_CRL_GENERATION_INTERVAL", "8d"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_LISTEN_API", "localhost"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_BASE_URL", "ftp://x"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_DATABASE_POOL_SIZE", "0"}}).ok());
  EXPECT_FALSE(Load({{"CERTCTL_LOG_FORMAT", "xml"}}).ok());
}

// The connection caps and the read timeout of the listeners: defaults, an
// override each, and the values refused.
TEST(ConfigTest, ConnectionLimitsAndReadTimeout) {
  auto d = Load({});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->listen_api_max_connections, 512);
  EXPECT_EQ(d->listen_api_reserved_connections, 16);
  EXPECT_EQ(d->listen_pki_max_connections, 2048);
  EXPECT_EQ(d->http_read_timeout, std::chrono::seconds(30));
  auto c = Load({{"CERTCTL_LISTEN_API_MAX_CONNECTIONS", "64"},
                 {"CERTCTL_LISTEN_API_RESERVED_CONNECTIONS", "0"},
                 {"CERTCTL_LISTEN_PKI_MAX_CONNECTIONS", "100"},
                 {"CERTCTL_HTTP_READ_TIMEOUT", "5s"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->listen_api_max_connections, 64);
  EXPECT_EQ(c->listen_api_reserved_connections, 0);
  EXPECT_EQ(c->listen_pki_max_connections, 100);
  EXPECT_EQ(c->http_read_timeout, std::chrono::seconds(5));
  struct Case {
    Env env;
    const char* named;  // the key the error names
  };
  const std::vector<Case> refused = {
      {{{"CERTCTL_LISTEN_API_MAX_CONNECTIONS", "0"}}, "listen_api_max_connections"},
      {{{"CERTCTL_LISTEN_PKI_MAX_CONNECTIONS", "-1"}}, "listen_pki_max_connections"},
      {{{"CERTCTL_LISTEN_PKI_MAX_CONNECTIONS", "lots"}}, "listen_pki_max_connections"},
      {{{"CERTCTL_LISTEN_API_MAX_CONNECTIONS", "8"},
        {"CERTCTL_LISTEN_API_RESERVED_CONNECTIONS", "8"}},
       "listen_api_reserved_connections"},
      {{{"CERTCTL_HTTP_READ_TIMEOUT", "0s"}}, "http_read_timeout"},
      {{{"CERTCTL_HTTP_READ_TIMEOUT", "2h"}}, "http_read_timeout"},
  };
  for (const auto& r : refused) {
    auto bad = Load(r.env);
    ASSERT_FALSE(bad.ok()) << r.named;
    EXPECT_EQ(bad.status().code(), StatusCode::kConfiguration);
    EXPECT_NE(bad.status().message().find(r.named), std::string::npos)
        << bad.status().message();
  }
}

// Replaced responder keys are kept 30 days unless told otherwise, and at
// least a day.
TEST(ConfigTest, KeyBackupRetention) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->key_backup_retention, std::chrono::hours(24 * 30));
  auto longer = Load({{"CERTCTL_KEY_BACKUP_RETENTION", "90d"}});
  ASSERT_TRUE(longer.ok()) << longer.status().ToString();
  EXPECT_EQ(longer->key_backup_retention, std::chrono::hours(24 * 90));
  auto short_one = Load({{"CERTCTL_KEY_BACKUP_RETENTION", "1h"}});
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.status().code(), StatusCode::kConfiguration);
  EXPECT_NE(short_one.status().message().find("CERTCTL_KEY_BACKUP_RETENTION"),
            std::string::npos)
      << short_one.status().message();
}

TEST(ConfigTest, SanCapDefaultsTo100AndIsBounded) {
  EXPECT_EQ(Load({})->certificate_max_sans, 100);
  EXPECT_EQ(Load({{"CERTCTL_CERTIFICATE_MAX_SANS", "5"}})->certificate_max_sans, 5);
  for (const char* bad : {"0", "1001", "-1", "many"}) {
    auto c = Load({{"CERTCTL_CERTIFICATE_MAX_SANS", bad}});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("certificate_max_sans"), std::string::npos)
        << c.status().message();
  }
}

TEST(ConfigTest, SecretValuesNeverAppearInErrors) {
  testing::TempDir dir;
  auto c = Load({{"CERTCTL_API_KEY", "topsecret"}, {"CERTCTL_API_KEY_FILE", dir / "k"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("topsecret"), std::string::npos);
}

TEST(ConfigTest, SecretsFromFiles) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "api", "from-file\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "db", "host=/run dbname=x\n").ok());
  auto c = Load(
      {{"CERTCTL_API_KEY_FILE", dir / "api"}, {"CERTCTL_DATABASE_URL_FILE", dir / "db"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->api_key.view(), "from-file");
  EXPECT_EQ(c->database_url.view(), "host=/run dbname=x");
  auto missing = Load({{"CERTCTL_API_KEY_FILE", dir / "nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

TEST(ConfigTest, AuditKeyAndAnchor) {
  testing::TempDir dir;
  std::string key(64, 'a');
  ASSERT_TRUE(WriteFileAtomic(dir / "audit.key", key + "\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "certctl.yaml",
                              "audit_key_file: " + (dir / "audit.key") +
                                  "\naudit_anchor_file: /var/lib/certctl/audit.anchor\n")
                  .ok());
  auto c = Load({}, dir / "certctl.yaml", true);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->audit_key.view(), key);
  EXPECT_EQ(c->audit_anchor_file, "/var/lib/certctl/audit.anchor");
  EXPECT_TRUE(Load({})->audit_key.empty());
  EXPECT_TRUE(Load({})->audit_anchor_file.empty());
  // Too short to key a MAC: refused at load, without showing it.
  auto short_key = Load({{"CERTCTL_AUDIT_KEY", "0123456789abcdef0123456789abcde"}});
  EXPECT_EQ(short_key.status().code(), StatusCode::kConfiguration);
  EXPECT_NE(short_key.status().message().find("CERTCTL_AUDIT_KEY"), std::string::npos);
  EXPECT_NE(short_key.status().message().find("at least 32"), std::string::npos);
  EXPECT_EQ(short_key.status().message().find("0123456789"), std::string::npos);
}

TEST(ConfigTest, FileErrors) {
  testing::TempDir dir;
  EXPECT_EQ(Load({}, dir / "missing.yaml", true).status().code(),
            StatusCode::kConfiguration);
  ASSERT_TRUE(WriteFileAtomic(dir / "typo.yaml", "databse_url: x\n").ok());
  auto typo = Load({}, dir / "typo.yaml", true);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("databse_url"), std::string::npos);
  EXPECT_NE(typo.status().message().find(":1"), std::string::npos);  // line number
  ASSERT_TRUE(WriteFileAtomic(dir / "bad.yaml", "a: [1,\n").ok());
  EXPECT_FALSE(Load({}, dir / "bad.yaml", true).ok());
}

TEST(ConfigTest, NamedApiKeysAndTrustAnchors) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "c.yaml",
                              "api_keys:\n"
                              "  - name: ci\n    role: operator\n    key: abc\n"
                              "  - name: audit\n    role: reader\n    key_sha256: " +
                                  Sha256Hex("zzz") +
                                  "\n"
                                  "trust_anchors:\n"
                                  "  - name: est\n    path: /etc/certctl/est.pem\n")
                  .ok());
  auto c = Load({}, dir / "c.yaml", true);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->api_keys.size(), 2u);
  EXPECT_EQ(c->api_keys[0].role, ApiRole::kOperator);
  EXPECT_EQ(c->api_keys[0].key_sha256, Sha256Hex("abc"));
  EXPECT_EQ(c->api_keys[1].key_sha256, Sha256Hex("zzz"));
  ASSERT_EQ(c->trust_anchors.size(), 1u);
  EXPECT_EQ(c->trust_anchors[0].path, "/etc/certctl/est.pem");

  ASSERT_TRUE(WriteFileAtomic(dir / "r.yaml",
                              "api_keys:\n  - name: x\n    role: root\n    key: k\n")
                  .ok());
  EXPECT_FALSE(Load({}, dir / "r.yaml", true).ok());
}

TEST(ConfigTest, MasksPasswordsInBothUrlForms) {
  EXPECT_EQ(MaskDatabaseUrl("postgresql://app:s3cret@db:5432/certctl"),
            "postgresql://app:********@db:5432/certctl");
  EXPECT_EQ(MaskDatabaseUrl("host=db password=s3cret dbname=x"),
            "host=db password=******** dbname=x");
  EXPECT_EQ(MaskDatabaseUrl("postgresql://db/x?password=s3cret&sslmode=require"),
            "postgresql://db/x?password=********&sslmode=require");
  EXPECT_EQ(MaskDatabaseUrl("postgresql://app@db/x"), "postgresql://app@db/x");
}

}  // namespace
}  // namespace certctl
