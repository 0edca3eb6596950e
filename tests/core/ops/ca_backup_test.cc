// BackupCa and VerifyCaBackup (`ca backup`, `ca backup --verify`): what a
// backup holds and how it is written, what is refused, and what the check
// finds in a backup that changed or no longer matches the database.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "certctl/pki/keys.h"
#include "certctl/util/encoding.h"
#include "core/ops/ca_fixture.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using testing::CaFiles;
using testing::OpRun;
using testing::Sql;

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

std::string Read(const std::string& path) {
  auto content = ReadFile(path);
  EXPECT_TRUE(content.ok()) << content.status().ToString();
  return content.ok() ? *content : "";
}

class CaBackupTest : public testing::CaOpsTest {
 protected:
  void SetUp() override {
    CaOpsTest::SetUp();
    if (HasFatalFailure()) return;
    out_ = std::make_unique<testing::TempDir>();
    target_ = *out_ / "backup";
  }

  // A backup of a served iss-local (responder and CRL) with a trust bundle.
  void BackUpServed() {
    Serve();
    ASSERT_FALSE(HasFatalFailure());
    bundle_ = *dir_ / "est.pem";
    ASSERT_TRUE(WriteFileAtomic(bundle_, Read(ca_cert_path_), {.mode = 0644}).ok());
    config_.trust_anchors.push_back({"est mTLS", bundle_});
    auto run = Backup(target_);
    ASSERT_TRUE(run.result.ok()) << run.status().ToString() << Dump(run);
    written_ = *run.result;
  }

  std::vector<std::string> VerifyCodes() {
    auto run = Verify(target_);
    EXPECT_TRUE(run.result.ok()) << run.status().ToString();
    return Codes(run);
  }

  std::unique_ptr<testing::TempDir> out_;
  std::string target_, bundle_;
  ops::CaBackupWritten written_;
};

TEST_F(CaBackupTest, HoldsEveryKeyAndCertificateWithTheirDigests) {
  BackUpServed();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_EQ(Entries(target_),
            (std::vector<std::string>{"ca-g1.crt", "ca-g1.key", "manifest.json",
                                      "ocsp-responder-g1.crt", "ocsp-responder-g1.key",
                                      "trust-1-est_mTLS.pem"}));
  EXPECT_EQ(ModeOf(target_), 0700u);
  for (const auto& name : Entries(target_)) {
    EXPECT_EQ(ModeOf(target_ + "/" + name), 0600u) << name;
  }
  // The files are the originals, byte for byte.
  std::string responder_key = Sql(
      url_, "SELECT key_path FROM ocsp_responder_certs WHERE issuer_id = 'iss-local'");
  EXPECT_EQ(Read(target_ + "/ca-g1.key"), Read(ca_key_path_));
  EXPECT_EQ(Read(target_ + "/ca-g1.crt"),
            Sql(url_, "SELECT cert_pem FROM ca_generations WHERE generation = 1"));
  EXPECT_EQ(Read(target_ + "/ocsp-responder-g1.key"), Read(responder_key));
  EXPECT_EQ(Read(target_ + "/trust-1-est_mTLS.pem"), Read(bundle_));

  // The manifest lists each with its digest and size, and says what it is.
  auto manifest = nlohmann::json::parse(Read(target_ + "/manifest.json"));
  EXPECT_EQ(manifest["format"], "certctl-ca-backup/1");
  EXPECT_EQ(manifest["issuer"], "iss-local");
  EXPECT_EQ(manifest["certctl_version"], CERTCTL_VERSION);
  EXPECT_EQ(manifest["created_by"], "tester");
  EXPECT_EQ(manifest["host"], "test-host");
  ASSERT_EQ(manifest["generations"].size(), 1u);
  auto cert = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(manifest["generations"][0]["fingerprint_sha256"],
            FingerprintSha256(cert->get()));
  EXPECT_EQ(manifest["generations"][0]["key_path"], ca_key_path_);
  EXPECT_EQ(manifest["trust_bundles"][0]["name"], "est mTLS");
  ASSERT_EQ(manifest["files"].size(), 5u);
  for (const auto& f : manifest["files"]) {
    std::string content = Read(target_ + "/" + f["name"].get<std::string>());
    EXPECT_EQ(f["sha256"], Sha256Hex(content)) << f.dump();
    EXPECT_EQ(f["size"], content.size()) << f.dump();
  }
  EXPECT_EQ(written_.manifest_sha256, Sha256Hex(Read(target_ + "/manifest.json")));

  // Recorded, with the generation it holds; audited start and end.
  ASSERT_TRUE(written_.backup_id.has_value());
  EXPECT_EQ(Sql(url_, "SELECT manifest_sha256 FROM ca_backups"),
            written_.manifest_sha256);
  EXPECT_EQ(Sql(url_, "SELECT directory FROM ca_backups"), target_);
  EXPECT_EQ(Sql(url_, "SELECT file_count FROM ca_backups"), "5");
  EXPECT_EQ(Sql(url_, "SELECT cert_sha256 FROM ca_backup_generations"),
            FingerprintSha256(cert->get()));
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'ca.backup'"),
            "started,succeeded");
  EXPECT_NE(Sql(url_,
                "SELECT detail FROM audit_events WHERE action = 'ca.backup' AND "
                "outcome = 'succeeded'")
                .find(written_.manifest_sha256),
            std::string::npos);
}

TEST_F(CaBackupTest, KeyMaterialIsNeverInTheReportOrTheAuditLog) {
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  auto run = Backup(target_);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  std::string everything =
      Dump(run) + Sql(url_,
                      "SELECT string_agg(detail || parameters::text, "
                      "'') FROM audit_events");
  EXPECT_EQ(everything.find("PRIVATE KEY"), std::string::npos) << everything;
  std::string key = Read(ca_key_path_);
  std::string body = key.substr(key.find('\n') + 1, 40);  // inside the PEM
  EXPECT_EQ(everything.find(body), std::string::npos);
}

TEST_F(CaBackupTest, EveryGenerationIsBackedUp) {
  CaFiles g2 = AddGeneration();
  ASSERT_FALSE(HasFatalFailure());
  auto run = Backup(target_);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_EQ(Read(target_ + "/ca-g2.key"), Read(g2.key_path));
  EXPECT_EQ(Read(target_ + "/ca-g1.key"), Read(ca_key_path_));
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(generation::text, ',' ORDER BY generation) FROM "
                "ca_backup_generations"),
            "1,2");
  EXPECT_TRUE(Verify(target_).findings.empty()) << Dump(Verify(target_));
}

TEST_F(CaBackupTest, ExistingDirectoryIsRefusedUnlessEmpty) {
  ASSERT_TRUE(fs::create_directory(target_));
  ASSERT_TRUE(WriteFileAtomic(target_ + "/notes.txt", "mine\n", {.mode = 0644}).ok());
  auto refused = Backup(target_);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("not empty"), std::string::npos);
  EXPECT_EQ(Entries(target_), std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(Count("ca_backups"), 0);
  EXPECT_EQ(Count("audit_events"), 1);  // the registration's only

  // A second backup into a finished one never touches it.
  ASSERT_TRUE(Backup(*out_ / "first").result.ok());
  auto before = Entries(*out_ / "first");
  std::string manifest = Read(*out_ / "first/manifest.json");
  EXPECT_EQ(Backup(*out_ / "first").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Entries(*out_ / "first"), before);
  EXPECT_EQ(Read(*out_ / "first/manifest.json"), manifest);

  // A file, or a missing parent, is refused too.
  EXPECT_EQ(Backup(*out_ / "first/manifest.json").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup(*out_ / "no/such/parent").status().code(),
            StatusCode::kInvalidArgument);

  // An empty directory is used, and made 0700.
  std::string empty = *out_ / "empty";
  ASSERT_TRUE(fs::create_directory(empty));
  ASSERT_EQ(::chmod(empty.c_str(), 0755), 0);
  ASSERT_TRUE(Backup(empty).result.ok());
  EXPECT_EQ(ModeOf(empty), 0700u);
}

TEST_F(CaBackupTest, DryRunPlansAndChangesNothing) {
  auto run = Backup(target_, /*dry_run=*/true);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_TRUE(run.dry_run);
  EXPECT_FALSE(fs::exists(target_));
  EXPECT_EQ(Count("ca_backups"), 0);
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM audit_events WHERE action = 'ca.backup'"),
            "0");
  ASSERT_FALSE(run.plan.empty());
  EXPECT_NE(run.plan[0].find(target_), std::string::npos);
  std::string plan;
  for (const auto& p : run.plan) plan += p + "\n";
  EXPECT_NE(plan.find("ca-g1.key (0600, ca_key, from " + ca_key_path_), std::string::npos)
      << plan;
  EXPECT_FALSE(run->backup_id.has_value());
  EXPECT_EQ(run->manifest.files.size(), 2u);
  // The checks run in a dry run too.
  ASSERT_TRUE(fs::remove(ca_key_path_));
  EXPECT_EQ(Backup(target_, true).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(CaBackupTest, MissingOrWrongCaKeyWritesNothing) {
  ASSERT_TRUE(fs::remove(ca_key_path_));
  auto missing = Backup(target_);
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find(ca_key_path_), std::string::npos);
  EXPECT_FALSE(fs::exists(target_));
  EXPECT_EQ(Count("ca_backups"), 0);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'ca.backup'"),
            "started,failed");

  auto other = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(WritePrivateKeyFile(ca_key_path_, other->get()).ok());
  auto wrong = Backup(target_);
  EXPECT_EQ(wrong.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find("does not hold the certificate's key"),
            std::string::npos)
      << wrong.status().ToString();
  EXPECT_FALSE(fs::exists(target_));
}

TEST_F(CaBackupTest, AResponderWithoutItsKeyIsLeftOutWithAWarning) {
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(fs::remove(Sql(url_, "SELECT key_path FROM ocsp_responder_certs")));
  auto run = Backup(target_);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_EQ(Codes(run), std::vector<std::string>{"ca.backup_responder_skipped"});
  EXPECT_EQ(run.findings[0].severity, "warning");
  EXPECT_EQ(Entries(target_),
            (std::vector<std::string>{"ca-g1.crt", "ca-g1.key", "manifest.json"}));
  EXPECT_FALSE(run->manifest.generations[0].responder_serial.has_value());
}

TEST_F(CaBackupTest, HeldLockIsBusyNamingTheHolder) {
  auto lock = OperationLock::Acquire(db(), ops::CaLockName(kLocalIssuerId),
                                     {"certctl-admin ca rotate", "host-b", 77});
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  auto run = Backup(target_);
  EXPECT_EQ(run.status().code(), StatusCode::kBusy);
  EXPECT_NE(run.status().message().find("host-b"), std::string::npos);
  EXPECT_FALSE(fs::exists(target_));
  // The caller that holds the lock (`ca rotate`) backs up all the same.
  auto ctx = Context();
  ops::OpReport report;
  auto held = ops::BackupCaHoldingLock(ctx, kLocalIssuerId, target_, report);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_TRUE(held->backup_id.has_value());
}

TEST_F(CaBackupTest, BadInputIsRefused) {
  EXPECT_EQ(Backup("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Backup("/").status().code(), StatusCode::kInvalidArgument);
  auto ctx = Context();
  ops::OpReport report;
  EXPECT_EQ(ops::BackupCa(ctx, "iss-nope", target_, report).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ops::BackupCa(ctx, std::string("iss-local\0x", 11), target_, report)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(target_));
  EXPECT_EQ(Count("audit_events"), 1);
}

TEST_F(CaBackupTest, VerifyFindsNothingInAnIntactBackup) {
  BackUpServed();
  ASSERT_FALSE(HasFatalFailure());
  auto run = Verify(target_);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_TRUE(run.findings.empty()) << Dump(run);
  EXPECT_EQ(run->recorded_backup_id, written_.backup_id);
  EXPECT_EQ(run->files.size(), 5u);
  ASSERT_EQ(run->generations.size(), 1u);
  EXPECT_EQ(run->generations[0].verdict, ops::CaBackupGenerationVerdict::kOk);
  EXPECT_EQ(testing::Keys(ops::ToJson(*run.result)),
            "created_at,directory,files,generations,issuer,manifest_sha256,"
            "recorded_backup_id");
}

// Two backups of the same material are two backups: each
// manifest carries its own random id, so a copy that was never recorded is
// never taken for the one that was.
TEST_F(CaBackupTest, TwoBackupsOfTheSameMaterialHaveDifferentManifests) {
  BackUpServed();
  ASSERT_FALSE(HasFatalFailure());
  std::string second = *out_ / "second";
  auto run = Backup(second);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_EQ(run->manifest.run_id.size(), 32u);
  EXPECT_NE(run->manifest.run_id, written_.manifest.run_id);
  EXPECT_NE(run->manifest_sha256, written_.manifest_sha256);
  auto first = Verify(target_);
  ASSERT_TRUE(first.result.ok()) << first.status().ToString();
  EXPECT_EQ(first->recorded_backup_id, written_.backup_id);
  auto other = Verify(second);
  ASSERT_TRUE(other.result.ok()) << other.status().ToString();
  EXPECT_EQ(other->recorded_backup_id, run->backup_id);
}

TEST_F(CaBackupTest, VerifyFindsAChangedAMissingAndAnExtraFile) {
  BackUpServed();
  ASSERT_FALSE(HasFatalFailure());
  {
    std::ofstream f(target_ + "/trust-1-est_mTLS.pem", std::ios::app);
    f << "# appended\n";
  }
  ASSERT_TRUE(fs::remove(target_ + "/ocsp-responder-g1.crt"));
  ASSERT_TRUE(WriteFileAtomic(target_ + "/notes.txt", "x\n", {.mode = 0600}).ok());
  auto run = Verify(target_);
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(Codes(run),
            (std::vector<std::string>{"ca.backup_file_missing", "ca.backup_file_changed",
                                      "ca.backup_file_extra"}))
      << Dump(run);
  EXPECT_TRUE(run.has_errors());
  EXPECT_EQ(run.findings[0].subject, target_ + "/ocsp-responder-g1.crt");
  EXPECT_EQ(run.findings[2].subject, target_ + "/notes.txt");
}

TEST_F(CaBackupTest, VerifyFindsAKeyThatIsNotTheCertificates) {
  Backup(target_);
  auto other = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(other.ok());
  auto pem = PrivateKeyToPem(other->get());
  ASSERT_TRUE(pem.ok());
  // The key and its manifest entry swapped consistently: only the pairing
  // shows it (and the manifest is no longer the recorded one).
  std::string text = Read(target_ + "/manifest.json");
  auto m = nlohmann::json::parse(text);
  for (auto& f : m["files"]) {
    if (f["name"] == "ca-g1.key") {
      f["sha256"] = Sha256Hex(pem->view());
      f["size"] = pem->size();
    }
  }
  ASSERT_TRUE(fs::remove(target_ + "/ca-g1.key"));
  ASSERT_TRUE(WriteFileAtomic(target_ + "/ca-g1.key", pem->view(), {.mode = 0600}).ok());
  ASSERT_TRUE(fs::remove(target_ + "/manifest.json"));
  ASSERT_TRUE(
      WriteFileAtomic(target_ + "/manifest.json", m.dump(2), {.mode = 0600}).ok());
  EXPECT_EQ(VerifyCodes(), (std::vector<std::string>{"ca.backup_key_mismatch",
                                                     "ca.backup_not_recorded"}));
}

TEST_F(CaBackupTest, VerifyFindsABackupThatNoLongerMatchesTheDatabase) {
  Backup(target_);
  // A rotation after the backup: the backup lacks the new generation.
  AddGeneration();
  ASSERT_FALSE(HasFatalFailure());
  auto newer = Verify(target_);
  EXPECT_EQ(Codes(newer), std::vector<std::string>{"ca.backup_generation_missing"})
      << Dump(newer);
  ASSERT_EQ(newer->generations.size(), 2u);
  EXPECT_EQ(newer->generations[1].verdict, ops::CaBackupGenerationVerdict::kNotInBackup);

  // Another database (a restore of the wrong one): generation 1 is another CA.
  std::string other_db = testing::TestCluster::Get().CreateMigratedDatabase();
  auto other = Database::Open({.url = testing::TestCluster::Get().Url(other_db)});
  ASSERT_TRUE(other.ok());
  CaFiles foreign = NewCa("foreign", hours(24 * 3650));
  // This host's audit anchor follows the first database, not this one.
  std::string anchor = config_.audit_anchor_file;
  config_.audit_anchor_file.clear();
  ops::CaKeyring keyring;
  ops::OpContext c = Context();
  ops::OpContext ctx{**other, config_, c.clock, c.logger, keyring, c.actor};
  ops::OpReport registered;
  ASSERT_TRUE(ops::RegisterConfiguredCa(ctx, kLocalIssuerId, foreign.cert_path,
                                        foreign.key_path, registered)
                  .ok());
  OpRun<ops::CaBackupVerified> wrong;
  wrong.result = ops::VerifyCaBackup(ctx, target_, wrong);
  ASSERT_TRUE(wrong.result.ok()) << wrong.status().ToString();
  EXPECT_EQ(Codes(wrong), (std::vector<std::string>{"ca.backup_generation_mismatch",
                                                    "ca.backup_not_recorded"}))
      << Dump(wrong);
  EXPECT_EQ(wrong->generations[0].verdict,
            ops::CaBackupGenerationVerdict::kFingerprintDiffers);
  config_.audit_anchor_file = anchor;
}

TEST_F(CaBackupTest, VerifyCallsADirectoryWithoutManifestIncomplete) {
  Backup(target_);
  // What a run killed before its last write leaves.
  ASSERT_TRUE(fs::remove(target_ + "/manifest.json"));
  auto incomplete = Verify(target_);
  ASSERT_TRUE(incomplete.result.ok());
  EXPECT_EQ(Codes(incomplete), std::vector<std::string>{"ca.backup_incomplete"});
  EXPECT_FALSE(incomplete->manifest.has_value());
  ASSERT_TRUE(WriteFileAtomic(target_ + "/manifest.json", "{\"format\": \"other/2\"}",
                              {.mode = 0600})
                  .ok());
  EXPECT_EQ(VerifyCodes(), std::vector<std::string>{"ca.backup_manifest_invalid"});
  EXPECT_EQ(Verify(*out_ / "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CaBackupTest, VerifyWarnsOfAFileOthersCanRead) {
  Backup(target_);
  ASSERT_EQ(::chmod((target_ + "/ca-g1.crt").c_str(), 0644), 0);
  auto run = Verify(target_);
  EXPECT_EQ(Codes(run), std::vector<std::string>{"ca.backup_file_mode"});
  EXPECT_FALSE(run.has_errors());
}

}  // namespace
}  // namespace certctl
