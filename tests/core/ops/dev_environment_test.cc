#include "certctl/ops/dev_environment.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/config/config.h"
#include "certctl/pki/ca.h"
#include "certctl/util/files.h"
#include "store/migrator.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

// Creates everything on the first call and reuses it on the second; the
// generated config is loadable and points at a migrated database.
TEST(DevEnvironmentTest, CreatesThenReuses) {
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string data = dir / "dev";
  auto first = ops::PrepareDevEnvironment(data);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->cluster_created);
  EXPECT_TRUE(first->cluster_started);
  EXPECT_TRUE(first->ca_created);
  EXPECT_EQ(first->new_api_key.rfind("dev-", 0), 0u);
  EXPECT_EQ(*FileMode(data + "/api-key"), 0600u);
  EXPECT_EQ(*FileMode(data + "/ca/ca.key"), 0600u);
  EXPECT_EQ(*FileMode(data + "/ocsp-responder-keys"), 0700u);
  EXPECT_TRUE(
      LoadCa(data + "/ca/ca.crt", data + "/ca/ca.key", std::chrono::system_clock::now())
          .ok());

  ConfigLoadOptions load{first->config_path, true, std::map<std::string, std::string>{}};
  auto config = LoadConfig(load);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_cert_path, data + "/ca/ca.crt");
  EXPECT_EQ(config->api_keys.size(), 1u);
  EXPECT_EQ(config->audit_key.size(), 64u);
  EXPECT_EQ(*FileMode(data + "/audit-key"), 0600u);
  EXPECT_EQ(config->audit_anchor_file, data + "/audit.anchor");
  {
    auto db = Database::Open({.url = std::string(config->database_url.view())});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE(RequireCurrentSchema(**db).ok());
  }
  std::string ca_before = *ReadFile(data + "/ca/ca.crt");
  std::string audit_key = *ReadFile(data + "/audit-key");
  // A connection failure hints at `certctld --dev` only while the dev
  // cluster the URL names is down (issue 12).
  std::string url(config->database_url.view());
  EXPECT_EQ(ops::StoppedDevCluster(url), std::nullopt);
  ASSERT_TRUE(first->cluster->Stop().ok());
  EXPECT_EQ(ops::StoppedDevCluster(url), std::optional<std::string>(data));
  EXPECT_EQ(ops::StoppedDevCluster("host=/tmp port=5432 dbname=certctl"), std::nullopt);
  EXPECT_EQ(ops::StoppedDevCluster("postgresql://db.example/certctl"), std::nullopt);
  // A dev directory from before audit keys: its config gains the two settings.
  std::string yaml = *ReadFile(first->config_path);
  yaml.erase(yaml.find("audit_key_file:"));
  ASSERT_TRUE(WriteFileAtomic(first->config_path, yaml, {.keep_backup = false}).ok());

  auto second = ops::PrepareDevEnvironment(data);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->cluster_created);
  EXPECT_FALSE(second->ca_created);
  EXPECT_TRUE(second->new_api_key.empty());  // printed once only
  EXPECT_EQ(*ReadFile(data + "/ca/ca.crt"), ca_before);
  EXPECT_TRUE(second->cluster_started);
  // While it runs, a third caller finds it running and must not stop it.
  auto third = ops::PrepareDevEnvironment(data);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->cluster_started);
  EXPECT_EQ(*ReadFile(data + "/audit-key"), audit_key);
  auto upgraded = LoadConfig(load);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  EXPECT_EQ(std::string(upgraded->audit_key.view()) + "\n", audit_key);
  EXPECT_EQ(upgraded->audit_anchor_file, data + "/audit.anchor");
  EXPECT_TRUE(second->cluster->Stop().ok());
}

// --dev finds its data directory the way git finds .git (issue 12).
TEST(DevEnvironmentTest, DataDirectoryIsFoundAboveTheCurrentDirectory) {
  testing::TempDir dir;
  std::string root = dir.path();
  ASSERT_TRUE(EnsureDirectory(root + "/checkout/var/dev", 0700).ok());
  ASSERT_TRUE(EnsureDirectory(root + "/checkout/src/deep", 0700).ok());
  ASSERT_TRUE(EnsureDirectory(root + "/elsewhere", 0700).ok());
  auto above = ops::FindDevDataDir("", "", root + "/checkout/src/deep");
  ASSERT_TRUE(above.found.has_value());
  EXPECT_EQ(*above.found, root + "/checkout/var/dev");
  auto here = ops::FindDevDataDir("", "", root + "/checkout");
  EXPECT_EQ(here.found, std::optional<std::string>(root + "/checkout/var/dev"));
  // The variable and then --data-dir win over the walk.
  auto variable = ops::FindDevDataDir("", root + "/elsewhere/", root + "/checkout");
  EXPECT_EQ(variable.found, std::optional<std::string>(root + "/elsewhere"));
  EXPECT_EQ(variable.how, "CERTCTL_DEV_DIR");
  auto given = ops::FindDevDataDir("rel", root + "/elsewhere", root + "/checkout");
  EXPECT_EQ(given.found,
            std::optional<std::string>(std::filesystem::absolute("rel").string()));
  // Nothing found (no var/dev above the temporary directory either): the
  // message says where it looked.
  auto none = ops::FindDevDataDir("", "", root + "/elsewhere");
  EXPECT_FALSE(none.found.has_value()) << *none.found;
  EXPECT_NE(none.NotFoundMessage().find("no var/dev in " + root +
                                        "/elsewhere or any directory above it"),
            std::string::npos)
      << none.NotFoundMessage();
}

TEST(DevEnvironmentTest, HalfPresentCaIsRefused) {
  testing::TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  std::string data = dir / "dev";
  ASSERT_TRUE(EnsureDirectory(data + "/ca", 0700).ok());
  ASSERT_TRUE(WriteFileAtomic(data + "/ca/ca.crt", "x").ok());
  auto env = ops::PrepareDevEnvironment(data);
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("ca.key"), std::string::npos);
  // The cluster it started is stopped again by the caller's cleanup below.
  LocalCluster cluster({.dir = data + "/pg"});
  (void)cluster.Stop(true);
}

}  // namespace
}  // namespace certctl
