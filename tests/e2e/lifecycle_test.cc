// The process around the answers: the interface contract, SIGTERM drain,
// SIGHUP reloads, metrics and readiness as an operator sees them.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "certctl/store/database.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "e2e/e2e_fixture.h"
#include "store/local_cluster.h"
#include "store/operation_lock.h"

namespace certctl::e2e {
namespace {

class LifecycleTest : public E2eTest {};

TEST_F(LifecycleTest, RefusesADatabaseThatWasNotMigrated) {
  std::string empty = testing::TestCluster::Get().CreateEmptyDatabase();
  auto env = Environment(FreePort(), FreePort());
  env["CERTCTL_DATABASE_URL"] = testing::TestCluster::Get().Url(empty);
  BackgroundProcess p({CERTCTLD_PATH}, env, Path("unmigrated.log"));
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.Wait(std::chrono::seconds(30)), 78);
  EXPECT_NE(p.Log().find("certctl-admin db migrate"), std::string::npos) << p.Log();
  (void)testing::TestCluster::Get().cluster().DropDatabase(empty);
}

TEST_F(LifecycleTest, RefusesToStartWithoutTheAuditKey) {
  auto env = Environment(FreePort(), FreePort());
  env.erase("CERTCTL_AUDIT_KEY");
  BackgroundProcess p({CERTCTLD_PATH}, env, Path("no-audit-key.log"));
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(p.Wait(std::chrono::seconds(30)), 78);
  EXPECT_NE(p.Log().find("no audit key"), std::string::npos) << p.Log();
}

TEST_F(LifecycleTest, SigtermDrainsInFlightRequestsAndRefusesNewOnes) {
  // Hold up a CRL fetch: no CRL in the database or in memory, and its lock
  // held elsewhere from before the start (certctld keeps in memory the CRLs
  // its scheduler signs: with the lock free, the start-up CRL would be served
  // at once), so the live signing waits.
  auto db = Database::Open({.url = url_, .pool_size = 2});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto lock = OperationLock::Acquire(**db, "crl:iss-local", ThisProcess("e2e"),
                                     std::chrono::seconds(20));
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  Sql("DELETE FROM crl_cache");
  Instance d = Start();
  Output in_flight;
  std::thread client([&] {
    in_flight = Curl({"-o", Path("drain.der"), "-w", "%{http_code}",
                      d.pki + "/.well-known/pki/crl/iss-local"});
  });
  // In flight once the daemon starts signing it live (it logs that).
  ASSERT_TRUE(Eventually([&] {
    return d.process->Log().find("no cached CRL of iss-local/g1; signing one") !=
           std::string::npos;
  })) << d.process->Log();
  d.process->Signal(SIGTERM);
  // Draining: new connections are refused while the old request waits. (A
  // path that answers at once, 404 on the PKI listener, until then.)
  Output refused;
  EXPECT_TRUE(Eventually([&] {
    refused = Curl({"-o", "/dev/null", "-w", "%{http_code}", d.pki + "/healthz"});
    return refused.text.ends_with("000");
  })) << refused.text;
  EXPECT_TRUE(d.process->Running());
  lock->reset();
  client.join();
  EXPECT_EQ(in_flight.text, "200") << in_flight.text;
  EXPECT_EQ(Exec({"openssl", "crl", "-inform", "DER", "-in", Path("drain.der"), "-CAfile",
                  ca_cert_, "-noout"})
                .exit_code,
            0);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(d.process->Wait(std::chrono::seconds(30)), 0) << d.process->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  EXPECT_NE(d.process->Log().find("SIGTERM: draining"), std::string::npos);
}

TEST_F(LifecycleTest, SighupWithABadTrustBundleKeepsTheOldOne) {
  std::string bundle = Path("est-clients.pem");
  auto ca_pem = ReadFile(ca_cert_);
  ASSERT_TRUE(ca_pem.ok());
  ASSERT_TRUE(WriteFileAtomic(bundle, *ca_pem, {.mode = 0644}).ok());
  std::string config = Path("certctl.yaml");
  std::string pid_file = Path("certctld.pid");
  ASSERT_TRUE(WriteFileAtomic(config,
                              "trust_anchors:\n  - name: est\n    path: " + bundle +
                                  "\npid_file: " + pid_file + "\n",
                              {.mode = 0600})
                  .ok());
  Instance d = Start({"--config", config});
  auto pid = ReadFile(pid_file);
  ASSERT_TRUE(pid.ok());
  EXPECT_EQ(*pid, std::to_string(d.process->pid()) + "\n");
  HttpResult ok = Api(d, "POST", "/api/v1/admin/trust-anchors/est/reload");
  ASSERT_EQ(ok.status, 200) << ok.body;
  std::string good = Sha256Hex(*ca_pem);
  EXPECT_EQ(ok.json["data"]["bundles"][0]["fingerprint"], good);

  // A half-finished rotation: the file is garbage now.
  ASSERT_TRUE(
      WriteFileAtomic(bundle, "-----BEGIN CERTIFICATE-----\nnot base64\n", {.mode = 0644})
          .ok());
  d.process->Signal(SIGHUP);
  EXPECT_TRUE(Eventually([&] {
    return d.process->Log().find("SIGHUP: refused to reload") != std::string::npos;
  })) << d.process->Log();
  EXPECT_TRUE(d.process->Running());
  // The typed error; the old pool is still the one loaded.
  HttpResult refused = Api(d, "POST", "/api/v1/admin/trust-anchors/est/reload");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"], "trust.garbage");
  EXPECT_EQ(refused.json["report"]["data"]["bundles"][0]["fingerprint"], good);
  EXPECT_EQ(
      Sql("SELECT count(*) FROM audit_events WHERE action = 'trust.reload' AND outcome = "
          "'failed' AND command_line = 'SIGHUP'"),
      "1");
  // Readiness is not affected.
  EXPECT_TRUE(WaitReady(d, 200, std::chrono::seconds(2)));
  // A second certctld with the same pid file refuses to start.
  BackgroundProcess second({CERTCTLD_PATH, "--config", config},
                           Environment(FreePort(), FreePort()), Path("second.log"));
  ASSERT_TRUE(second.Start().ok());
  EXPECT_EQ(second.Wait(std::chrono::seconds(30)), 78) << second.Log();
  EXPECT_NE(second.Log().find("already running with pid"), std::string::npos)
      << second.Log();
  EXPECT_EQ(Stop(d), 0);
  EXPECT_FALSE(std::filesystem::exists(pid_file));
}

// A second `certctld --dev` on a data directory that is being served (same
// ports, as an operator retyping the command would) refuses before it
// touches anything: it names the running one's pid, and the first keeps its
// PostgreSQL cluster and answers API calls that need the database. (It used
// to fail on the port and, on its way out, stop the first one's cluster.)
// The second is started in a subdirectory without --data-dir: it finds
// var/dev above, as git finds .git.
TEST_F(LifecycleTest, SecondDevInstanceRefusesWithoutTouchingTheFirst) {
  // The dev cluster runs as the postgres account when we are root.
  ::chmod(dir_->path().c_str(), 0755);
  ASSERT_TRUE(EnsureDirectory(Path("var"), 0755).ok());
  ASSERT_TRUE(EnsureDirectory(Path("src/deep"), 0755).ok());
  std::string data = Path("var/dev");
  Instance d;
  d.api_port = FreePort();
  d.pki_port = FreePort();
  d.api = "https://127.0.0.1:" + std::to_string(d.api_port);
  std::map<std::string, std::string> env = {
      {"CERTCTL_LISTEN_API", "127.0.0.1:" + std::to_string(d.api_port)},
      {"CERTCTL_LISTEN_PKI", "127.0.0.1:" + std::to_string(d.pki_port)}};
  std::vector<std::string> argv = {CERTCTLD_PATH, "--dev", "--data-dir", data};
  d.process = std::make_unique<BackgroundProcess>(argv, env, Path("dev-first.log"));
  ASSERT_TRUE(d.process->Start().ok());
  // Its own CA signed its TLS certificate; the dev API key is in the directory.
  auto api = [&](const std::string& target) {
    return Curl({"--cacert", data + "/ca/ca.crt", "-o", "/dev/null", "-w", "%{http_code}",
                 "-H", "@" + Path("dev-key-header"), d.api + target})
        .text;
  };
  ASSERT_TRUE(Eventually(
      [&] {
        auto key = ReadFile(data + "/api-key");
        if (!key.ok() || !d.process->Running()) return false;
        std::string header = "Authorization: Bearer " + key->substr(0, key->find('\n'));
        if (!WriteFileAtomic(Path("dev-key-header"), header + "\n", {.mode = 0600}).ok())
          return false;
        return api("/readyz") == "200";
      },
      std::chrono::seconds(120)))
      << d.process->Log();

  BackgroundProcess second({"/bin/sh", "-c", "cd \"$0\" && exec \"$1\" --dev",
                            Path("src/deep"), CERTCTLD_PATH},
                           env, Path("dev-second.log"));
  ASSERT_TRUE(second.Start().ok());
  EXPECT_EQ(second.Wait(std::chrono::seconds(60)), 78) << second.Log();
  EXPECT_NE(
      second.Log().find("already running with pid " + std::to_string(d.process->pid())),
      std::string::npos)
      << second.Log();
  EXPECT_EQ(second.Log().find("PostgreSQL"), std::string::npos) << second.Log();
  // The first is untouched: its database answers.
  EXPECT_TRUE(d.process->Running());
  EXPECT_EQ(api("/api/v1/issuers"), "200") << d.process->Log();
  EXPECT_EQ(api("/readyz"), "200");
  EXPECT_EQ(*ReadFile(data + "/certctld.pid"), std::to_string(d.process->pid()) + "\n");
  EXPECT_EQ(Stop(d, std::chrono::seconds(60)), 0) << d.process->Log();
  EXPECT_FALSE(std::filesystem::exists(data + "/certctld.pid"));

  // A cluster someone else started (here by hand) is never stopped: a
  // certctld --dev that then fails to start (its API address cannot be
  // bound) leaves it running.
  auto bin_dir = FindPostgresBinDir();
  ASSERT_TRUE(bin_dir.ok()) << bin_dir.status().ToString();
  LocalCluster cluster({.dir = data + "/pg", .bin_dir = *bin_dir});
  ASSERT_FALSE(cluster.IsRunning());
  ASSERT_TRUE(cluster.Start().ok());
  auto unbindable = env;
  unbindable["CERTCTL_LISTEN_API"] = "192.0.2.1:" + std::to_string(d.api_port);
  BackgroundProcess failing(argv, unbindable, Path("dev-third.log"));
  ASSERT_TRUE(failing.Start().ok());
  EXPECT_EQ(failing.Wait(std::chrono::seconds(60)), 78) << failing.Log();
  EXPECT_NE(failing.Log().find("192.0.2.1"), std::string::npos) << failing.Log();
  EXPECT_TRUE(cluster.IsRunning()) << failing.Log();
  EXPECT_TRUE(cluster.Stop().ok());
}

TEST_F(LifecycleTest, SighupSwapsTheTlsCertificateAndKeepsItOnABadFile) {
  Instance d = Start();
  auto served_serial = [&] {
    Output o = Exec({"sh", "-c",
                     "openssl s_client -connect 127.0.0.1:" + std::to_string(d.api_port) +
                         " </dev/null 2>/dev/null | openssl x509 -noout -serial"});
    return o.text;
  };
  std::string before = served_serial();
  ASSERT_NE(before.find("serial="), std::string::npos) << before;
  // A new certificate for the same key.
  ASSERT_EQ(Exec({"openssl", "x509", "-req", "-in", Path("tls.csr"), "-CA", ca_cert_,
                  "-CAkey", ca_key_, "-CAcreateserial", "-days", "30", "-extfile",
                  Path("tls.ext"), "-out", tls_cert_})
                .exit_code,
            0);
  d.process->Signal(SIGHUP);
  std::string after;
  EXPECT_TRUE(Eventually(
      [&] {
        after = served_serial();
        return after.find("serial=") != std::string::npos && after != before;
      },
      std::chrono::seconds(10)));
  // A broken file keeps the current certificate.
  ASSERT_TRUE(WriteFileAtomic(tls_cert_, "garbage", {.mode = 0644}).ok());
  d.process->Signal(SIGHUP);
  EXPECT_TRUE(Eventually([&] {
    return d.process->Log().find("keeping the current TLS certificate") !=
           std::string::npos;
  }));
  EXPECT_EQ(served_serial(), after);
  EXPECT_EQ(Curl({"-o", "/dev/null", "-w", "%{http_code}", d.api + "/healthz"}).text,
            "200");
}

TEST_F(LifecycleTest, MetricsAndAuthAsAnOperatorSeesThem) {
  Instance d = Start();
  ASSERT_FALSE(Issue(d, "m").empty());
  Ocsp(d.pki + "/.well-known/pki/ocsp/iss-local", Path("m.crt"), true);
  Ocsp(d.pki + "/.well-known/pki/ocsp/iss-local", Path("m.crt"), true);
  Output metrics = Curl({d.api + "/metrics"});
  EXPECT_NE(metrics.text.find(
                "certctl_http_requests_total{endpoint=\"api_issue\",status=\"201\"} 1"),
            std::string::npos)
      << metrics.text;
  EXPECT_NE(
      metrics.text.find("certctl_ocsp_responses_total{status=\"good\",cache=\"hit\"}"),
      std::string::npos)
      << metrics.text;
  EXPECT_NE(metrics.text.find("certctl_db_pool_connections{state=\"open\"}"),
            std::string::npos);
  EXPECT_NE(
      metrics.text.find("certctl_crl_generation_duration_seconds{issuer=\"iss-local\""),
      std::string::npos)
      << metrics.text;
  EXPECT_TRUE(Eventually(
      [&] {
        return Curl({d.api + "/metrics"})
                   .text.find(
                       "certctl_ocsp_responder_not_after_timestamp_seconds{issuer=\"iss-"
                       "local\"") != std::string::npos;
      },
      std::chrono::seconds(10)));
  // Without the key, and with a wrong one: 401 and a JSON error.
  Output anonymous = Curl({"-w", "\n%{http_code}", d.api + "/api/v1/certificates"});
  EXPECT_NE(anonymous.text.find("\"unauthenticated\""), std::string::npos)
      << anonymous.text;
  EXPECT_TRUE(anonymous.text.ends_with("401")) << anonymous.text;
  ASSERT_TRUE(WriteFileAtomic(Path("wrong.header"), "Authorization: Bearer nope\n",
                              {.mode = 0600})
                  .ok());
  Output wrong = Curl({"-o", "/dev/null", "-w", "%{http_code}", "-H",
                       "@" + Path("wrong.header"), d.api + "/api/v1/certificates"});
  EXPECT_EQ(wrong.text, "401");
}

}  // namespace
}  // namespace certctl::e2e
