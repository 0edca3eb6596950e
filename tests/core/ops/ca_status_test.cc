// DescribeCa (`ca status`): what it reports of each generation, and its
// findings for an expiring CA, a key file that is wrong, missing or open to
// others, and a retired generation.
#include <sys/stat.h>

#include <filesystem>

#include "certctl/pki/keys.h"
#include "certctl/util/time_format.h"
#include "core/ops/ca_fixture.h"

namespace certctl {
namespace {

using std::chrono::hours;
using testing::OpRun;

class CaStatusTest : public testing::CaOpsTest {
 protected:
  // The only generation of iss-local (or generation `n`).
  const ops::CaGenerationStatus& Gen(const OpRun<ops::CaStatus>& run, int n = 1) {
    static const ops::CaGenerationStatus none;
    if (!run.result.ok() || run->issuers.size() != 1) return none;
    for (const auto& g : run->issuers[0].generations) {
      if (g.generation == n) return g;
    }
    return none;
  }
};

TEST_F(CaStatusTest, ReportsEveryFactOfTheGeneration) {
  Serve();
  ASSERT_FALSE(HasFatalFailure());
  Issue("a.example");
  Issue("b.example");
  auto run = Describe();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  const auto& g = Gen(run);
  auto cert = LoadCertificateFile(ca_cert_path_);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(g.generation, 1);
  EXPECT_EQ(g.state, GenerationState::kActive);
  EXPECT_EQ(g.subject, SubjectOf(cert->get()));
  EXPECT_EQ(g.key_type, "ecdsa-p256");
  auto serial = Serial::FromAsn1(X509_get0_serialNumber(cert->get()));
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(g.serial, serial->hex());
  EXPECT_EQ(g.fingerprint_sha256, FingerprintSha256(cert->get()));
  EXPECT_EQ(g.not_after, NotAfter(cert->get()));
  EXPECT_GT(g.time_left, hours(24 * 3640));
  EXPECT_EQ(g.expiry, ops::CaExpiry::kOk);
  EXPECT_EQ(g.key_file.path, ca_key_path_);
  EXPECT_TRUE(g.key_file.exists);
  EXPECT_EQ(g.key_file.mode, 0600u);
  EXPECT_TRUE(g.key_file.owner.has_value());
  EXPECT_TRUE(g.key_file.matches_certificate);
  EXPECT_EQ(g.key_file.problem, "");
  EXPECT_EQ(g.unexpired_certificates, 2);
  ASSERT_TRUE(g.last_certificate_expiry.has_value());
  EXPECT_GT(*g.last_certificate_expiry, std::chrono::system_clock::now());
  EXPECT_FALSE(g.can_be_archived);
  EXPECT_EQ(g.responder.verdict, "ok");
  EXPECT_TRUE(g.responder.serial.has_value());
  EXPECT_EQ(g.crl.verdict, "ok");
  EXPECT_EQ(g.crl.crl_number, 1);
  EXPECT_FALSE(g.backup.has_value());
  EXPECT_FALSE(run->issuers[0].unfinished_rotation.has_value());
  // Only the missing backup is worth a word, and it is a warning.
  EXPECT_EQ(Codes(run), std::vector<std::string>{"ca.backup_missing"}) << Dump(run);
  EXPECT_FALSE(run.has_errors());

  auto json = ops::ToJson(*run.result);
  EXPECT_EQ(testing::Keys(json), "issuers,thresholds");
  EXPECT_EQ(json["thresholds"]["warning"], "365d");
  EXPECT_EQ(json["thresholds"]["critical"], "90d");
  EXPECT_EQ(testing::Keys(json["issuers"][0]), "generations,issuer,unfinished_rotation");
  const auto& j = json["issuers"][0]["generations"][0];
  EXPECT_EQ(testing::Keys(j),
            "backup,can_be_archived,crl,expiry,fingerprint_sha256,generation,key_file,"
            "key_type,last_certificate_expiry,not_after,not_before,responder,"
            "seconds_left,serial,state,subject,unexpired_certificates");
  EXPECT_EQ(j["key_file"]["mode"], "0600");
  EXPECT_EQ(j["expiry"], "ok");
}

TEST_F(CaStatusTest, ExpiringCaIsAWarningThenAnErrorThenExpired) {
  RegisterIssuer("iss-year", hours(24 * 200));
  RegisterIssuer("iss-soon", hours(24 * 60));
  ASSERT_FALSE(HasFatalFailure());
  auto year = Describe("iss-year");
  ASSERT_TRUE(year.result.ok()) << year.status().ToString();
  EXPECT_EQ(Gen(year).expiry, ops::CaExpiry::kWarning);
  EXPECT_TRUE(Has(year, "ca.expiring", "warning")) << Dump(year);
  EXPECT_FALSE(Has(year, "ca.expiring_critical"));

  auto soon = Describe("iss-soon");
  ASSERT_TRUE(soon.result.ok());
  EXPECT_EQ(Gen(soon).expiry, ops::CaExpiry::kCritical);
  EXPECT_TRUE(Has(soon, "ca.expiring_critical")) << Dump(soon);
  EXPECT_TRUE(soon.has_errors());
  for (const auto& f : soon.findings) {
    if (f.code == "ca.expiring_critical") {
      EXPECT_NE(f.message.find("less than 90d left"), std::string::npos) << f.message;
    }
  }

  // Thresholds are the caller's: a 200-day CA is critical under 365d.
  auto strict = Describe("iss-year", {hours(24 * 400), hours(24 * 365)});
  EXPECT_TRUE(Has(strict, "ca.expiring_critical")) << Dump(strict);
  // And a ten-year CA raises nothing under the defaults.
  EXPECT_FALSE(Has(Describe(), "ca.expiring", "warning"));

  // Past notAfter (a clock a year on).
  FakeClock later(std::chrono::system_clock::now() + hours(24 * 365));
  ops::OpContext c = Context();
  ops::OpContext ctx{c.db, c.config, later, c.logger, c.keyring, c.actor};
  OpRun<ops::CaStatus> expired;
  expired.result = ops::DescribeCa(ctx, "iss-soon", {}, expired);
  ASSERT_TRUE(expired.result.ok()) << expired.status().ToString();
  EXPECT_EQ(Gen(expired).expiry, ops::CaExpiry::kExpired);
  EXPECT_LT(Gen(expired).time_left.count(), 0);
  EXPECT_TRUE(Has(expired, "ca.expired")) << Dump(expired);
}

TEST_F(CaStatusTest, ThresholdsAreChecked) {
  EXPECT_EQ(Describe(kLocalIssuerId, {hours(24), hours(48)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe(kLocalIssuerId, {hours(0), hours(0)}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Describe("iss-nope").status().code(), StatusCode::kNotFound);
  config_.ca_expiry_warning = hours(24 * 30);
  config_.ca_expiry_critical = hours(24 * 7);
  auto t = ops::ExpiryThresholdsFrom(config_);
  EXPECT_EQ(t.warning, hours(24 * 30));
  EXPECT_EQ(t.critical, hours(24 * 7));
}

TEST_F(CaStatusTest, KeyThatIsNotTheCertificatesIsAnError) {
  auto other = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(
      WritePrivateKeyFile(ca_key_path_, other->get(), {.keep_backup = false}).ok());
  auto run = Describe();
  ASSERT_TRUE(run.result.ok());
  EXPECT_FALSE(Gen(run).key_file.matches_certificate);
  EXPECT_EQ(Gen(run).key_file.algorithm, "ecdsa-p256");
  EXPECT_TRUE(Has(run, "ca.key_mismatch")) << Dump(run);
  EXPECT_FALSE(Has(run, "ca.key_mode"));
}

TEST_F(CaStatusTest, KeyReadableByOthersIsAnError) {
  ASSERT_EQ(::chmod(ca_key_path_.c_str(), 0644), 0);
  auto run = Describe();
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(Gen(run).key_file.mode, 0644u);
  EXPECT_TRUE(Gen(run).key_file.matches_certificate);  // still compared
  EXPECT_TRUE(Has(run, "ca.key_mode")) << Dump(run);
  EXPECT_EQ(ops::ToJson(*run.result)["issuers"][0]["generations"][0]["key_file"]["mode"],
            "0644");
  ASSERT_EQ(::chmod(ca_key_path_.c_str(), 0640), 0);
  EXPECT_TRUE(Has(Describe(), "ca.key_mode"));
  ASSERT_EQ(::chmod(ca_key_path_.c_str(), 0400), 0);
  EXPECT_FALSE(Has(Describe(), "ca.key_mode"));
}

TEST_F(CaStatusTest, MissingOrGarbledKeyIsAnError) {
  ASSERT_TRUE(WriteFileAtomic(ca_key_path_, "not a key\n", {.keep_backup = false}).ok());
  auto garbled = Describe();
  EXPECT_TRUE(Has(garbled, "ca.key_unreadable")) << Dump(garbled);
  ASSERT_TRUE(std::filesystem::remove(ca_key_path_));
  auto missing = Describe();
  ASSERT_TRUE(missing.result.ok());
  EXPECT_FALSE(Gen(missing).key_file.exists);
  EXPECT_TRUE(Has(missing, "ca.key_missing")) << Dump(missing);
}

TEST_F(CaStatusTest, RetiredGenerationWithoutCertificatesCanBeArchived) {
  AddGeneration();
  ASSERT_FALSE(HasFatalFailure());
  // Generation 1's key is gone: it signs nothing any more, so that is no finding.
  ASSERT_TRUE(std::filesystem::remove(ca_key_path_));
  auto run = Describe();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  ASSERT_EQ(run->issuers[0].generations.size(), 2u);
  const auto& g1 = Gen(run, 1);
  EXPECT_EQ(g1.state, GenerationState::kRetired);
  EXPECT_TRUE(g1.can_be_archived);
  EXPECT_EQ(g1.unexpired_certificates, 0);
  EXPECT_EQ(g1.crl.verdict, "not_published");
  EXPECT_EQ(Gen(run, 2).state, GenerationState::kActive);
  EXPECT_FALSE(Gen(run, 2).can_be_archived);
  for (const auto& f : run.findings) EXPECT_NE(f.subject, "iss-local/g1") << Dump(run);
}

TEST_F(CaStatusTest, RetiredGenerationStillSigningKeepsItsChecks) {
  Issue("old.example");
  AddGeneration();
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(std::filesystem::remove(ca_key_path_));
  auto run = Describe();
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  const auto& g1 = Gen(run, 1);
  EXPECT_FALSE(g1.can_be_archived);
  EXPECT_EQ(g1.unexpired_certificates, 1);
  EXPECT_EQ(g1.crl.verdict, "missing");  // it still has to publish one
  bool key_missing = false;
  for (const auto& f : run.findings) {
    key_missing |= f.code == "ca.key_missing" && f.subject == "iss-local/g1";
  }
  EXPECT_TRUE(key_missing) << Dump(run);
}

TEST_F(CaStatusTest, RecordedBackupIsShownPerGeneration) {
  testing::TempDir out;
  auto backup = Backup(out / "b1");
  ASSERT_TRUE(backup.result.ok()) << backup.status().ToString();
  auto run = Describe();
  ASSERT_TRUE(Gen(run).backup.has_value()) << Dump(run);
  EXPECT_EQ(Gen(run).backup->id, *backup->backup_id);
  EXPECT_EQ(Gen(run).backup->directory, out / "b1");
  EXPECT_EQ(Gen(run).backup->created_by, "tester");
  EXPECT_FALSE(Has(run, "ca.backup_missing", "warning"));
  // A new generation has no backup until the next one is taken.
  AddGeneration();
  auto after = Describe();
  EXPECT_TRUE(Gen(after, 1).backup.has_value());
  EXPECT_FALSE(Gen(after, 2).backup.has_value());
  EXPECT_TRUE(Has(after, "ca.backup_missing", "warning")) << Dump(after);
}

TEST_F(CaStatusTest, CarriesTheCrlAndResponderFindings) {
  auto run = Describe();  // nothing served yet
  ASSERT_TRUE(run.result.ok());
  EXPECT_EQ(Gen(run).crl.verdict, "missing");
  EXPECT_EQ(Gen(run).responder.verdict, "missing");
  EXPECT_TRUE(Has(run, "crl.missing")) << Dump(run);
  EXPECT_TRUE(Has(run, "ocsp.responder_missing")) << Dump(run);
}

TEST_F(CaStatusTest, AllIssuers) {
  RegisterIssuer("iss-other", hours(24 * 3650));
  auto run = Describe("");
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  ASSERT_EQ(run->issuers.size(), 2u);
  EXPECT_EQ(run->issuers[0].issuer, "iss-local");
  EXPECT_EQ(run->issuers[1].issuer, "iss-other");
  EXPECT_EQ(run.target, "*");
}

}  // namespace
}  // namespace certctl
