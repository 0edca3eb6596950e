// RegenerateCrl: content, numbering, events, dry run, locks, generations.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "certctl/ops/issuer_ops.h"
#include "certctl/util/time_format.h"
#include "core/ops/crl_fixture.h"
#include "store/issuer_repo.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using testing::Sql;

class CrlRegenerateTest : public testing::CrlOpsTest {};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

TEST_F(CrlRegenerateTest, CrlVerifiesWithOpensslAndRejectsTheRevokedLeaf) {
  auto revoked = Issue("revoked.example");
  auto kept = Issue("kept.example");
  auto unspecified = Issue("unspecified.example");
  Revoke(revoked.serial, "keyCompromise");
  Revoke(unspecified.serial, "unspecified");

  auto report = Regenerate();
  ASSERT_EQ(report->crls.size(), 1u) << ops::ReportJson(report, report.result).dump(2);
  const auto& crl = report->crls[0];
  EXPECT_EQ(report->issuer, "iss-local");
  EXPECT_EQ(crl.issuer, "iss-local");
  EXPECT_EQ(crl.generation, 1);
  EXPECT_EQ(crl.number, 1);
  EXPECT_EQ(crl.revoked, 2);
  EXPECT_EQ(crl.der_size, static_cast<int64_t>(CachedDer().size()));
  EXPECT_EQ(crl.next_update - crl.this_update, config_.crl_validity);
  EXPECT_GE(crl.duration.count(), 0);
  // The JSON keeps its RFC 3339 times.
  auto json = ops::ToJson(crl);
  EXPECT_EQ(*ParseRfc3339(json["next_update"].get<std::string>()), crl.next_update);

  std::string der = CachedDer();
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "crl.der", der, {.mode = 0644}).ok());
  auto text = Run({"openssl", "crl", "-inform", "DER", "-in", *dir_ / "crl.der",
                   "-CAfile", ca_cert_path_, "-noout", "-text"});
  EXPECT_NE(text.output.find("verify OK"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(Upper(revoked.serial)), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(Upper(unspecified.serial)), std::string::npos);
  EXPECT_EQ(text.output.find(Upper(kept.serial)), std::string::npos);
  EXPECT_NE(text.output.find("Key Compromise"), std::string::npos);
  // Only the keyCompromise entry carries a reasonCode.
  size_t reasons = 0;
  for (size_t at = text.output.find("CRL Reason Code"); at != std::string::npos;
       at = text.output.find("CRL Reason Code", at + 1)) {
    ++reasons;
  }
  EXPECT_EQ(reasons, 1u) << text.output;

  // Relying parties: the revoked leaf is refused, the other one accepted.
  auto pem = Run({"openssl", "crl", "-inform", "DER", "-in", *dir_ / "crl.der", "-out",
                  *dir_ / "crl.pem"});
  ASSERT_EQ(pem.exit_code, 0) << pem.output;
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "revoked.pem", revoked.certificate_pem).ok());
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "kept.pem", kept.certificate_pem).ok());
  auto refused = Run({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_path_,
                      "-CRLfile", *dir_ / "crl.pem", *dir_ / "revoked.pem"});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("certificate revoked"), std::string::npos)
      << refused.output;
  auto accepted = Run({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_path_,
                       "-CRLfile", *dir_ / "crl.pem", *dir_ / "kept.pem"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.output;
}

// RFC 5280 §5.3.1: removeFromCRL belongs in delta CRLs only; in a complete CRL
// it makes `openssl verify -crl_check` accept the certificate. A row holding
// it (from before migration 0004; forced in here by dropping the constraint)
// is written as unspecified, so the certificate stays revoked.
TEST_F(CrlRegenerateTest, RemoveFromCrlRowIsListedAsRevoked) {
  auto leaf = Issue("removed.example");
  Revoke(leaf.serial, "keyCompromise");
  Sql(url_,
      "ALTER TABLE certificate_revocations DROP CONSTRAINT "
      "certificate_revocations_reason_check");
  Sql(url_, "UPDATE certificate_revocations SET reason = 8");
  Regenerate();
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "crl.der", CachedDer(), {.mode = 0644}).ok());
  auto text = Run(
      {"openssl", "crl", "-inform", "DER", "-in", *dir_ / "crl.der", "-noout", "-text"});
  EXPECT_NE(text.output.find(Upper(leaf.serial)), std::string::npos) << text.output;
  EXPECT_EQ(text.output.find("Remove From CRL"), std::string::npos) << text.output;
  ASSERT_EQ(Run({"openssl", "crl", "-inform", "DER", "-in", *dir_ / "crl.der", "-out",
                 *dir_ / "crl.pem"})
                .exit_code,
            0);
  ASSERT_TRUE(WriteFileAtomic(*dir_ / "leaf.pem", leaf.certificate_pem).ok());
  auto verify = Run({"openssl", "verify", "-crl_check", "-CAfile", ca_cert_path_,
                     "-CRLfile", *dir_ / "crl.pem", *dir_ / "leaf.pem"});
  EXPECT_NE(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("certificate revoked"), std::string::npos)
      << verify.output;
}

TEST_F(CrlRegenerateTest, NumbersStrictlyIncreaseAndEveryRunIsRecorded) {
  for (int i = 0; i < 3; ++i) Regenerate(ops::CrlTrigger::kScheduled);
  EXPECT_EQ(CachedRow()->crl_number, 3);
  EXPECT_EQ(Count("crl_cache"), 1);
  EXPECT_EQ(Events("succeeded AND trigger = 'scheduled' AND error IS NULL"), 3);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(crl_number::text, ',' ORDER BY id) "
                "FROM crl_generation_events"),
            "1,2,3");
  std::string runner = Sql(url_, "SELECT runner FROM crl_generation_events LIMIT 1");
  EXPECT_EQ(runner, HostName() + ":" + std::to_string(::getpid()));
  EXPECT_EQ(Sql(url_, "SELECT crl_size = " + std::to_string(CachedDer().size()) +
                          " AND revoked_count = 0 FROM crl_generation_events ORDER BY id "
                          "DESC LIMIT 1"),
            "t");

  // A partial restore leaves the counter behind the published CRL: the next
  // CRL still gets a higher number than the one relying parties have seen.
  Sql(url_, "DELETE FROM crl_numbers");
  Sql(url_,
      "INSERT INTO crl_numbers (issuer_id, generation, last_number) VALUES ('iss-local', "
      "1, 1)");
  auto report = Regenerate();
  ASSERT_EQ(report->crls.size(), 1u);
  EXPECT_EQ(report->crls[0].number, 4) << ops::ReportJson(report, report.result).dump(2);
  EXPECT_EQ(CachedRow()->crl_number, 4);
  EXPECT_NE(report.steps.front().find("was behind the published CRL 3"),
            std::string::npos);
  EXPECT_EQ(Sql(url_, "SELECT last_number FROM crl_numbers"), "4");

  // The cache row itself never goes back to a lower number.
  auto ca = LocalCa();
  CrlCacheRecord older = *CachedRow();
  older.crl_number = 2;
  older.crl_der =
      SignCrl(ca, 2, FromUnixSeconds(ToUnixSeconds(std::chrono::system_clock::now())),
              std::chrono::system_clock::now() + std::chrono::hours(1));
  Status s = db().Run([&](Transaction& tx) { return CrlRepo::Upsert(tx, older); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("CRL numbers must increase"), std::string::npos);
  EXPECT_EQ(CachedRow()->crl_number, 4);
}

TEST_F(CrlRegenerateTest, FailureIsRecordedWhenTheCaKeyIsMissingOrUnreadable) {
  Regenerate(ops::CrlTrigger::kScheduled);
  std::string good = CachedDer();
  keyring_->Clear();
  std::filesystem::rename(ca_key_path_, ca_key_path_ + ".moved");
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, report)
                 .status();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].code, "crl.generation_failed");
  EXPECT_EQ(Events("NOT succeeded"), 1);
  std::string error =
      Sql(url_, "SELECT error FROM crl_generation_events WHERE NOT succeeded");
  EXPECT_NE(error.find(ca_key_path_), std::string::npos) << error;
  EXPECT_EQ(
      Sql(url_,
          "SELECT crl_number IS NULL AND trigger = 'scheduled' AND duration_ms >= 0 "
          "FROM crl_generation_events WHERE NOT succeeded"),
      "t");

  // A key file others can read is refused the same way, also recorded.
  std::filesystem::rename(ca_key_path_ + ".moved", ca_key_path_);
  ASSERT_EQ(::chmod(ca_key_path_.c_str(), 0644), 0);
  s = ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, report)
          .status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_EQ(Events("NOT succeeded"), 2);
  // The last good CRL is untouched and the counter did not move.
  EXPECT_EQ(CachedDer(), good);
  EXPECT_EQ(Sql(url_, "SELECT last_number FROM crl_numbers"), "1");
}

TEST_F(CrlRegenerateTest, DryRunChangesNothing) {
  Revoke(Issue().serial);
  Regenerate();
  auto counts = [&] {
    return std::vector<std::string>{
        Sql(url_, "SELECT count(*) FROM crl_cache"),
        Sql(url_, "SELECT count(*) FROM crl_generation_events"),
        Sql(url_, "SELECT count(*) || '/' || sum(last_number) FROM crl_numbers"),
        Sql(url_, "SELECT count(*) FROM audit_events"),
        Sql(url_, "SELECT encode(sha256(crl_der), 'hex') FROM crl_cache")};
  };
  auto before = counts();
  auto report = Regenerate(ops::CrlTrigger::kAdmin, /*dry_run=*/true);
  EXPECT_EQ(counts(), before);
  EXPECT_TRUE(report.dry_run);
  ASSERT_EQ(report.plan.size(), 1u);
  EXPECT_NE(report.plan[0].find("sign CRL number 2 for iss-local/g1 with 1 entries"),
            std::string::npos)
      << report.plan[0];
  ASSERT_TRUE(report->planned.has_value());
  ASSERT_EQ(report->planned->size(), 1u);
  EXPECT_EQ(report->planned->at(0).number, 2);
  EXPECT_EQ(report->planned->at(0).revoked, 1);
  EXPECT_EQ(report->crls.size(), 0u);
  EXPECT_TRUE(report.steps.empty());
}

TEST_F(CrlRegenerateTest, HeldLockIsBusyAndNamesTheHolder) {
  auto held = OperationLock::Acquire(db(), ops::CrlLockName(kLocalIssuerId),
                                     {"certctld crl scheduler", "host-z", 4711});
  ASSERT_TRUE(held.ok());
  auto ctx = Context();
  ops::OpReport report;
  Status s =
      ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kAdmin, report).status();
  EXPECT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_NE(s.message().find("host-z"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("4711"), std::string::npos) << s.message();
  EXPECT_EQ(Count("crl_cache"), 0);
  EXPECT_EQ(Events(), 0);  // nothing was attempted
  // An admin run is audited, also when refused.
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'crl.regenerate'"),
            "started,failed");
}

TEST_F(CrlRegenerateTest, OnlyAdminRunsAreAudited) {
  int64_t audit = Count("audit_events");
  for (auto t : {ops::CrlTrigger::kScheduled, ops::CrlTrigger::kStartup,
                 ops::CrlTrigger::kRevocation, ops::CrlTrigger::kFetch}) {
    Regenerate(t);
  }
  EXPECT_EQ(Count("audit_events"), audit);
  EXPECT_EQ(
      Sql(url_, "SELECT string_agg(trigger, ',' ORDER BY id) FROM crl_generation_events"),
      "scheduled,startup,revocation,fetch");
  Regenerate(ops::CrlTrigger::kAdmin);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome || ':' || actor, ',' ORDER BY id) "
                "FROM audit_events WHERE action = 'crl.regenerate'"),
            "started:tester,succeeded:tester");
}

TEST_F(CrlRegenerateTest, UnknownIssuerOrGenerationChangesNothing) {
  auto ctx = Context();
  ops::OpReport report;
  EXPECT_EQ(ops::RegenerateCrl(ctx, "iss-nope", ops::CrlTrigger::kAdmin, report)
                .status()
                .code(),
            StatusCode::kNotFound);
  ops::RegenerateOptions only;
  only.generation = 9;
  EXPECT_EQ(ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kAdmin, only, report)
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(Count("audit_events"), 1);  // the registration's
  EXPECT_EQ(Events(), 0);
}

TEST_F(CrlRegenerateTest, RetiredGenerationPublishesUntilItsCertificatesExpire) {
  auto old_leaf = Issue("old.example");
  Revoke(old_leaf.serial, "superseded");
  Issue("other-old.example");
  // Rotate by hand: generation 2 becomes active, generation 1 is retired.
  auto g2 = CreateSelfSignedCa({.common_name = "certctl Local CA G2"},
                               std::chrono::system_clock::now());
  ASSERT_TRUE(g2.ok());
  CaGenerationRecord rec;
  rec.issuer_id = kLocalIssuerId;
  rec.generation = 2;
  rec.cert_pem = CertificateToPem(g2->cert.get());
  rec.cert_sha256 = FingerprintSha256(g2->cert.get());
  rec.key_path = *dir_ / "g2.key";
  rec.subject = SubjectOf(g2->cert.get());
  rec.not_before = NotBefore(g2->cert.get());
  rec.not_after = NotAfter(g2->cert.get());
  ASSERT_TRUE(db().Run([&](Transaction& tx) -> Status {
                    RETURN_IF_ERROR(IssuerRepo::RetireGeneration(tx, kLocalIssuerId, 1));
                    return IssuerRepo::InsertGeneration(tx, rec);
                  })
                  .ok());
  ASSERT_TRUE(WritePrivateKeyFile(rec.key_path, g2->key.get()).ok());

  auto report = Regenerate();
  ASSERT_EQ(report->crls.size(), 2u) << ops::ReportJson(report, report.result).dump(2);
  EXPECT_EQ(report->crls[0].generation, 1);
  EXPECT_EQ(report->crls[0].revoked, 1);
  EXPECT_EQ(report->crls[1].generation, 2);
  EXPECT_EQ(report->crls[1].revoked, 0);
  // Each CRL is signed by its own generation.
  std::string g1_der = CachedDer(1);
  auto g1_view = CrlView::Parse(g1_der);
  ASSERT_TRUE(g1_view.ok());
  EXPECT_TRUE(g1_view->VerifySignature(LocalCa().cert.get()).ok());
  EXPECT_EQ(g1_view->authority_key_id(), SubjectKeyId(LocalCa().cert.get()));
  std::string g2_der = CachedDer(2);
  auto g2_view = CrlView::Parse(g2_der);
  ASSERT_TRUE(g2_view.ok());
  EXPECT_TRUE(g2_view->VerifySignature(g2->cert.get()).ok());
  EXPECT_EQ(g2_view->issuer(), "CN=certctl Local CA G2,O=certctl");

  // Once everything generation 1 signed has expired, it stops publishing.
  Sql(url_,
      "UPDATE certificates SET not_after = now() - interval '1 day' WHERE generation = "
      "1");
  auto later = Regenerate();
  ASSERT_EQ(later->crls.size(), 1u);
  EXPECT_EQ(later->crls[0].generation, 2);
}

TEST_F(CrlRegenerateTest, LargeCrlsRoundTripThroughTheCacheInSlices) {
  Regenerate();
  // 9 MB of distinct bytes: written and read back in two 8 MiB slices.
  CrlCacheRecord big = *CachedRow();
  big.crl_number = 2;
  big.crl_der.clear();
  for (int i = 0; big.crl_der.size() < (9u << 20); ++i)
    big.crl_der += Sha256(std::to_string(i));
  ASSERT_TRUE(db().Run([&](Transaction& tx) { return CrlRepo::Upsert(tx, big); }).ok());
  EXPECT_EQ(Sql(url_, "SELECT encode(sha256(crl_der), 'hex') FROM crl_cache"),
            Sha256Hex(big.crl_der));
  auto row = CachedRow();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->size, static_cast<int64_t>(big.crl_der.size()));
  EXPECT_TRUE(row->crl_der == big.crl_der);
  EXPECT_EQ(row->der_sha256, Sha256(big.crl_der));
}

}  // namespace
}  // namespace certctl
