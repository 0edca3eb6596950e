// certctl-admin db post-restore (issue 11) with the real binaries: a live
// database backed up with pg_dump, revocations published by certctld after
// the backup, the backup restored with pg_restore, and what relying parties
// then see, checked with `openssl crl` and `openssl ocsp`.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "certctl/util/files.h"
#include "cmd/admin_fixture.h"
#include "store/local_cluster.h"

namespace certctl {
namespace {

using testing::Eventually;
using testing::Sql;

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

class PostRestoreTest : public testing::AdminTest {
 protected:
  std::string PgTool(const std::string& name) {
    auto bin = FindPostgresBinDir();
    EXPECT_TRUE(bin.ok()) << bin.status().ToString();
    return (bin.ok() ? *bin : std::string("/usr/bin")) + "/" + name;
  }
  // The operator's backup: pg_dump's custom format.
  void Backup(const std::string& file) {
    auto out = e2e::Exec({PgTool("pg_dump"), "-Fc", "-d", url_, "-f", file});
    ASSERT_EQ(out.exit_code, 0) << out.text;
  }
  // The operator's restore into the live database.
  void Restore(const std::string& file) {
    auto out = e2e::Exec({PgTool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                          "--single-transaction", "-d", url_, file});
    ASSERT_EQ(out.exit_code, 0) << out.text;
  }
  // The CRL as served, saved to `name`.der; `openssl crl -text` of it, checked
  // against the CA.
  std::string FetchCrl(const testing::RunningDaemon& d, const std::string& name) {
    std::string der = *dir_ / (name + ".der");
    auto got =
        e2e::Exec({"curl", "-sSf", "-o", der, d.pki + "/.well-known/pki/crl/iss-local"});
    if (got.exit_code != 0) return "curl: " + got.text;
    return e2e::Exec({"openssl", "crl", "-inform", "DER", "-in", der, "-CAfile",
                      ca_cert_path_, "-noout", "-text"})
        .text;
  }
  static int64_t CrlNumber(const std::string& text) {
    std::smatch m;
    static const std::regex kNumber(R"(X509v3 CRL Number:\s*\n\s*(\d+))");
    return std::regex_search(text, m, kNumber) ? std::stoll(m[1]) : -1;
  }
  // `openssl ocsp` against certctld for a certificate: its status line.
  std::string OcspStatus(const testing::RunningDaemon& d, const std::string& name,
                         const std::string& certificate_pem) {
    std::string cert = *dir_ / (name + ".pem");
    EXPECT_TRUE(WriteFileAtomic(cert, certificate_pem, {.mode = 0644}).ok());
    return e2e::Exec({"openssl", "ocsp", "-issuer", ca_cert_path_, "-cert", cert, "-url",
                      d.pki + "/.well-known/pki/ocsp/iss-local", "-CAfile", ca_cert_path_,
                      "-no_nonce"})
        .text;
  }
  std::string Revocations() {
    return Sql(
        url_,
        "SELECT coalesce(string_agg(serial || ':' || reason, ',' ORDER BY serial), "
        "'') FROM certificate_revocations");
  }
};

// The issue's restore test.
TEST_F(PostRestoreTest, PublishedRevocationsAndCrlNumbersSurviveARestore) {
  auto before = Issue("before-backup.example");
  auto compromised = Issue("after-backup-1.example");
  auto ceased = Issue("after-backup-2.example");
  Revoke(before.serial, "superseded");
  auto d = StartDaemon();
  ASSERT_NE(d, nullptr);
  ASSERT_TRUE(Eventually([&] {
    return FetchCrl(*d, "first").find(Upper(before.serial)) != std::string::npos;
  }));
  std::string backup = *dir_ / "live.dump";
  Backup(backup);

  // After the backup: two more revocations, and certctld publishes them.
  Revoke(compromised.serial, "keyCompromise");
  Revoke(ceased.serial, "cessationOfOperation");
  std::string published;
  ASSERT_TRUE(Eventually([&] {
    published = FetchCrl(*d, "published");
    return published.find(Upper(compromised.serial)) != std::string::npos &&
           published.find(Upper(ceased.serial)) != std::string::npos;
  })) << published;

  // The runbook: stop certctld, restore the backup into the live database.
  d.reset();
  int64_t highest = std::max<int64_t>(
      CrlNumber(published), std::stoll(Sql(url_,
                                           "SELECT coalesce(max(crl_number), 0) FROM "
                                           "crl_generation_events WHERE succeeded")));
  ASSERT_GT(highest, 0) << published;
  Restore(backup);
  ASSERT_EQ(Revocations(), before.serial + ":4") << "the restore lost the two";
  ASSERT_LT(std::stoll(Sql(url_, "SELECT last_number FROM crl_numbers")), highest);

  // Dry run: exactly what would be re-applied, and nothing changes.
  auto untouched = Snapshot();
  auto dry = Admin({"-o", "json", "db", "post-restore", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.Both();
  const auto& plan = dry.json["data"];
  ASSERT_EQ(plan["reapplied"].size(), 2u) << dry.out;
  std::map<std::string, std::string> reasons;
  for (const auto& r : plan["reapplied"]) reasons[r["serial"]] = r["reason"];
  EXPECT_EQ(reasons[compromised.serial], "keyCompromise");
  EXPECT_EQ(reasons[ceased.serial], "cessationOfOperation");
  ASSERT_EQ(plan["crl_numbers"].size(), 1u) << dry.out;
  EXPECT_EQ(plan["crl_numbers"][0]["moved"], true);
  EXPECT_EQ(plan["crl_numbers"][0]["next"], highest + 1);
  // The CRL it would sign counts the re-applied revocations (1 + 2), and a
  // dry run reports no step done (no "schema already current").
  std::string signs = "sign CRL number " + std::to_string(highest + 1) +
                      " for iss-local/g1 with 3 entries";
  bool planned = false;
  for (const auto& line : dry.json["plan"]) {
    planned = planned || line.get<std::string>().find(signs) != std::string::npos;
  }
  EXPECT_TRUE(planned) << signs << "\n" << dry.out;
  EXPECT_EQ(dry.json["steps"], nlohmann::json::array()) << dry.out;
  EXPECT_EQ(Snapshot(), untouched);
  auto dry_text = Admin({"db", "post-restore", "--dry-run"});
  EXPECT_NE(dry_text.out.find(compromised.serial), std::string::npos) << dry_text.out;
  EXPECT_NE(dry_text.out.find("keyCompromise"), std::string::npos) << dry_text.out;
  EXPECT_EQ(dry_text.out.find("schema already current"), std::string::npos)
      << dry_text.out;
  EXPECT_EQ(Snapshot(), untouched);

  auto run = Admin({"-o", "json", "db", "post-restore"});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_EQ(run.json["data"]["reapplied"].size(), 2u);
  ASSERT_EQ(run.json["data"]["checks"].size(), 1u) << run.out;
  EXPECT_EQ(run.json["data"]["checks"][0]["ok"], true) << run.out;
  EXPECT_EQ(AuditOutcomes("db.post-restore"), "started,succeeded");
  std::map<std::string, int> all{
      {before.serial, 4}, {compromised.serial, 1}, {ceased.serial, 5}};
  std::string expected;
  for (const auto& [serial, reason] : all) {
    expected += (expected.empty() ? "" : ",") + serial + ":" + std::to_string(reason);
  }
  EXPECT_EQ(Revocations(), expected);

  // What relying parties see from certctld started on the restored database.
  auto again = StartDaemon();
  ASSERT_NE(again, nullptr);
  std::string crl = FetchCrl(*again, "after-restore");
  EXPECT_NE(crl.find("verify OK"), std::string::npos) << crl;
  for (const auto* serial : {&before.serial, &compromised.serial, &ceased.serial}) {
    EXPECT_NE(crl.find(Upper(*serial)), std::string::npos) << *serial << "\n" << crl;
  }
  EXPECT_NE(crl.find("Key Compromise"), std::string::npos) << crl;
  EXPECT_GT(CrlNumber(crl), highest) << crl;
  for (const auto& [name, pem] : {std::pair{"compromised", compromised.certificate_pem},
                                  std::pair{"ceased", ceased.certificate_pem}}) {
    std::string status = OcspStatus(*again, name, pem);
    EXPECT_NE(status.find(std::string(name) + ".pem: revoked"), std::string::npos)
        << status;
    EXPECT_NE(status.find("Response verify OK"), std::string::npos) << status;
  }
}

// A CRL the operator kept (from a CDN, another replica's host) counts as
// published too; a file that is no CRL of this CA is refused before anything
// changes.
TEST_F(PostRestoreTest, AnOperatorsCrlFileIsEvidenceAndABadOneIsRefused) {
  auto cert = Issue("kept-by-cdn.example");
  std::string backup = *dir_ / "live.dump";
  Backup(backup);
  Revoke(cert.serial, "affiliationChanged");
  auto regenerate = Admin({"crl", "regenerate", "iss-local"});
  ASSERT_EQ(regenerate.exit_code, 0) << regenerate.Both();
  // The copy published elsewhere, and this host's record of it lost.
  std::string cdn_copy = *dir_ / "cdn.crl";
  std::string recorded = *dir_ / "iss-local-g1.crl";
  ASSERT_TRUE(std::filesystem::exists(recorded));
  auto pem =
      e2e::Exec({"openssl", "crl", "-inform", "DER", "-in", recorded, "-out", cdn_copy});
  ASSERT_EQ(pem.exit_code, 0) << pem.text;
  std::filesystem::remove(recorded);
  Restore(backup);

  std::string garbage = *dir_ / "garbage.crl";
  ASSERT_TRUE(WriteFileAtomic(garbage, "not a CRL", {.mode = 0644}).ok());
  auto untouched = Snapshot();
  auto refused = Admin({"db", "post-restore", "--crl", garbage});
  EXPECT_EQ(refused.exit_code, 2) << refused.Both();
  EXPECT_NE(refused.err.find("garbage.crl is not a CRL"), std::string::npos)
      << refused.Both();
  auto missing = Admin({"db", "post-restore", "--crl", *dir_ / "nope.crl"});
  EXPECT_EQ(missing.exit_code, 2) << missing.Both();
  EXPECT_EQ(Snapshot(), untouched);

  auto run = Admin({"-o", "json", "db", "post-restore", "--crl", cdn_copy});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  ASSERT_EQ(run.json["data"]["reapplied"].size(), 1u) << run.out;
  EXPECT_EQ(run.json["data"]["reapplied"][0]["serial"], cert.serial);
  EXPECT_EQ(run.json["data"]["reapplied"][0]["source"], cdn_copy);
  EXPECT_EQ(Revocations(), cert.serial + ":3");
}

// Certificates issued after the backup are unknown to the restored database:
// said plainly (exit 1), never silently dropped.
TEST_F(PostRestoreTest, ARevokedCertificateIssuedAfterTheBackupIsReported) {
  std::string backup = *dir_ / "live.dump";
  Backup(backup);
  auto late = Issue("issued-after-backup.example");
  Revoke(late.serial, "keyCompromise");
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  Restore(backup);
  auto run = Admin({"-o", "json", "db", "post-restore"});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  ASSERT_EQ(run.json["data"]["unknown_certificates"].size(), 1u) << run.out;
  EXPECT_EQ(run.json["data"]["unknown_certificates"][0]["serial"], late.serial);
  std::string codes;
  for (const auto& f : run.json["findings"]) codes += f["code"].get<std::string>() + ",";
  EXPECT_NE(codes.find("post_restore.unknown_certificate"), std::string::npos) << codes;
  EXPECT_NE(codes.find("post_restore.revocation_missing"), std::string::npos) << codes;
  // Exit 1 is a failed run in the audit log too, with the findings as detail.
  EXPECT_EQ(AuditOutcomes("db.post-restore"), "started,failed");
  EXPECT_NE(Sql(url_,
                "SELECT detail FROM audit_events WHERE action = 'db.post-restore' AND "
                "outcome = 'failed'")
                .find(late.serial),
            std::string::npos);
}

TEST_F(PostRestoreTest, DatabaseDownAndHeldLocksChangeNothing) {
  std::string nowhere = "postgresql://127.0.0.1:" + std::to_string(e2e::FreePort()) +
                        "/certctl?connect_timeout=2";
  auto down = Admin({"db", "post-restore"}, {"CERTCTL_DATABASE_URL=" + nowhere});
  EXPECT_EQ(down.exit_code, 69) << down.Both();

  auto cert = Issue("locked.example");
  Revoke(cert.serial, "keyCompromise");
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  std::string numbers = Sql(url_, "SELECT last_number FROM crl_numbers");
  for (const std::string lock : {"db:post-restore", "crl:iss-local"}) {
    auto held = HoldLock(lock);
    ASSERT_NE(held, nullptr);
    auto busy = Admin({"db", "post-restore"});
    EXPECT_EQ(busy.exit_code, 75) << lock << "\n" << busy.Both();
    EXPECT_NE(busy.err.find("certctld"), std::string::npos) << busy.Both();
    EXPECT_EQ(Sql(url_, "SELECT count(*) FROM crl_cache"), "1") << lock;
    EXPECT_EQ(Sql(url_, "SELECT last_number FROM crl_numbers"), numbers) << lock;
  }
  EXPECT_EQ(AuditOutcomes("db.post-restore"), "started,failed,started,failed");
  // Free again: it runs, and a database that was never restored needs nothing.
  auto run = Admin({"-o", "json", "db", "post-restore"});
  EXPECT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_EQ(run.json["data"]["reapplied"].size(), 0u) << run.out;
  EXPECT_EQ(run.json["data"]["crl_numbers"][0]["moved"], false) << run.out;
}

}  // namespace
}  // namespace certctl
