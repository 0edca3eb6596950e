// Responder procedures: ensure/rotate, reset-responder, `ocsp status` and
// `ocsp check`.
#include <sys/stat.h>

#include <filesystem>

#include "certctl/ops/cache_ops.h"
#include "certctl/ops/ocsp_json.h"
#include "certctl/ops/op_json.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/time_format.h"
#include "ops/ocsp_test_helpers.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

using testing::OpRun;
using testing::RunOpenssl;
using testing::Sql;

class OcspResponderOpsTest : public testing::OcspFixture {
 protected:
  ops::OpContext Timed(const Clock& clock) {
    ops::OpContext c = Context();
    return ops::OpContext{c.db, c.config, clock, c.logger, c.keyring, c.actor};
  }

  Status Ensure(ops::OpContext& ctx, OpRun<ops::ResponderEnsured>& run) {
    run.result = ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, run);
    return run.status();
  }

  template <typename T>
  static std::string Dump(const OpRun<T>& run) {
    return ops::ReportJson(run, run.result).dump(2);
  }

  std::vector<std::string> FindingCodes(const ops::OpReport& report) {
    std::vector<std::string> out;
    for (const auto& f : report.findings) out.push_back(f.code);
    return out;
  }

  size_t KeyDirEntries() {
    if (!std::filesystem::exists(config_.ocsp_responder_key_dir)) return 0;
    size_t n = 0;
    for (const auto& e :
         std::filesystem::directory_iterator(config_.ocsp_responder_key_dir)) {
      (void)e;
      ++n;
    }
    return n;
  }
};

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_F(OcspResponderOpsTest, BootstrapIssuesTheResponderProfile) {
  auto ctx = Context();
  OpRun<ops::ResponderEnsured> report;
  ASSERT_TRUE(Ensure(ctx, report).ok()) << report.status().ToString();
  EXPECT_EQ(report->action, ops::ResponderAction::kBootstrapped);
  ASSERT_TRUE(report->responder.has_value());
  EXPECT_EQ(report->responder->key_path, KeyPath());
  EXPECT_EQ(Count("ocsp_responder_certs"), 1);
  EXPECT_EQ(*FileMode(KeyPath()), 0600u);
  EXPECT_EQ(*FileMode(config_.ocsp_responder_key_dir), 0700u);
  std::string pem = Sql(url_, "SELECT cert_pem FROM ocsp_responder_certs");
  testing::WriteBytes(*work_ / "responder.pem", pem);
  std::string text =
      RunOpenssl({"x509", "-in", *work_ / "responder.pem", "-noout", "-text"});
  EXPECT_NE(text.find("OCSP Signing"), std::string::npos) << text;
  EXPECT_NE(text.find("OCSP No Check"), std::string::npos) << text;
  EXPECT_NE(text.find("Digital Signature"), std::string::npos) << text;
  EXPECT_NE(text.find("ASN1 OID: prime256v1"), std::string::npos) << text;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  std::string verify = RunOpenssl({"verify", "-CAfile", ca_cert_path_, "-purpose",
                                   "ocsphelper", *work_ / "responder.pem"});
  EXPECT_NE(verify.find("OK"), std::string::npos) << verify;
  // Validity: config.ocsp_responder_validity (plus the minute of skew).
  EXPECT_EQ(Sql(url_,
                "SELECT extract(epoch from not_after - not_before)::bigint FROM "
                "ocsp_responder_certs"),
            std::to_string(config_.ocsp_responder_validity.count() + 60));
  // The key on disk is the certificate's.
  auto key = LoadPrivateKeyFile(KeyPath());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(DescribeKey(key->get()), "ecdsa-p256");

  // Nothing to do the second time.
  OpRun<ops::ResponderEnsured> again;
  ASSERT_TRUE(Ensure(ctx, again).ok());
  EXPECT_EQ(again->action, ops::ResponderAction::kNone);
  EXPECT_EQ(Count("ocsp_responder_cert_history"), 1);
}

TEST_F(OcspResponderOpsTest, SchedulerRotatesWhenLittleValidityIsLeft) {
  FakeClock clock(SystemClock::Instance().Now());
  auto ctx = Timed(clock);
  ops::OpReport first;
  auto first_pass = ops::RotateDueOcspResponders(ctx, first);
  ASSERT_TRUE(first_pass.ok());
  ASSERT_EQ(first_pass->responders.size(), 1u);
  EXPECT_EQ(first_pass->responders[0].action, ops::ResponderAction::kBootstrapped);
  std::string old_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  // Each replacement is audited (issue 12); a pass that changes nothing is not.
  const std::string audited =
      "SELECT coalesce(string_agg(outcome || ' ' || (parameters::jsonb ->> 'action'), "
      "',' ORDER BY id), '') FROM audit_events WHERE action = 'ocsp.ensure-responder'";
  EXPECT_EQ(Sql(url_, audited), "started bootstrapped,succeeded bootstrapped");

  clock.Advance(config_.ocsp_responder_validity - config_.ocsp_responder_renew_before -
                std::chrono::hours(1));
  ops::OpReport early;
  auto early_pass = ops::RotateDueOcspResponders(ctx, early);
  ASSERT_TRUE(early_pass.ok());
  EXPECT_EQ(early_pass->responders.at(0).action, ops::ResponderAction::kNone);
  EXPECT_EQ(Sql(url_, audited), "started bootstrapped,succeeded bootstrapped");

  clock.Advance(std::chrono::hours(2));
  ops::OpReport due;
  auto due_pass = ops::RotateDueOcspResponders(ctx, due);
  ASSERT_TRUE(due_pass.ok()) << due_pass.status().ToString();
  EXPECT_EQ(due_pass->responders.at(0).action, ops::ResponderAction::kRotated);
  std::string new_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  EXPECT_NE(new_serial, old_serial);
  EXPECT_EQ(Sql(url_, audited),
            "started bootstrapped,succeeded bootstrapped,started rotated,succeeded "
            "rotated");
  EXPECT_EQ(Sql(url_, "SELECT detail LIKE 'rotated responder " + new_serial +
                          " of iss-local/g1%' FROM audit_events WHERE action = "
                          "'ocsp.ensure-responder' ORDER BY id DESC LIMIT 1"),
            "t");
  EXPECT_EQ(
      Sql(url_,
          "SELECT count(*) FROM ocsp_responder_cert_history WHERE serial_number = '" +
              old_serial +
              "' AND replaced_at IS NOT NULL AND replaced_reason LIKE "
              "'less than 7d left%'"),
      "1");
  // The old key file is kept as a backup, mode 0600.
  size_t backups = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(config_.ocsp_responder_key_dir)) {
    if (e.path().filename().string().find(".bak-") != std::string::npos) {
      ++backups;
      EXPECT_EQ(*FileMode(e.path()), 0600u);
    }
  }
  EXPECT_EQ(backups, 1u);
}

TEST_F(OcspResponderOpsTest, ResetDryRunChangesNothing) {
  auto service = NewService();
  auto leaf = Issue();
  Ask(*service, leaf.serial);
  int64_t rows = Count("ocsp_responder_certs"),
          history = Count("ocsp_responder_cert_history");
  int64_t cached = Count("ocsp_response_cache"), audit = Count("audit_events");
  size_t files = KeyDirEntries();
  std::string key_before = testing::ReadBytes(KeyPath());
  auto ctx = Context(/*dry_run=*/true);
  ops::OpReport report;
  auto planned = ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report);
  ASSERT_TRUE(planned.ok()) << planned.status().ToString();
  EXPECT_TRUE(report.dry_run);
  EXPECT_EQ(report.plan.size(), 4u);
  ASSERT_TRUE(planned->before.has_value());
  EXPECT_EQ(planned->before->ocsp_rows, 1);
  EXPECT_FALSE(planned->after.has_value());
  EXPECT_FALSE(planned->responder.has_value());
  EXPECT_EQ(Count("ocsp_responder_certs"), rows);
  EXPECT_EQ(Count("ocsp_responder_cert_history"), history);
  EXPECT_EQ(Count("ocsp_response_cache"), cached);
  EXPECT_EQ(Count("audit_events"), audit);
  EXPECT_EQ(KeyDirEntries(), files);
  EXPECT_EQ(testing::ReadBytes(KeyPath()), key_before);
}

TEST_F(OcspResponderOpsTest, ResetReplacesKeyAndCertificateInvalidatesAndVerifies) {
  auto service = NewService();
  auto leaf = Issue();
  Ask(*service, leaf.serial);
  std::string old_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  std::string old_key = testing::ReadBytes(KeyPath());
  auto ctx = Context();
  ops::OpReport report;
  auto reset = ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report);
  ASSERT_TRUE(reset.ok()) << reset.status().ToString();
  EXPECT_TRUE(reset->verified);
  EXPECT_EQ(reset->old_serial, old_serial);
  EXPECT_EQ(reset->ocsp_rows_deleted, 1);
  std::string backup = reset->key_backup;
  ASSERT_FALSE(backup.empty());
  EXPECT_EQ(testing::ReadBytes(backup), old_key);
  EXPECT_NE(testing::ReadBytes(KeyPath()), old_key);
  EXPECT_EQ(*FileMode(KeyPath()), 0600u);
  std::string new_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  ASSERT_TRUE(reset->responder.has_value());
  EXPECT_EQ(reset->responder->serial, new_serial);
  EXPECT_EQ(reset->key_path, KeyPath());
  EXPECT_NE(new_serial, old_serial);
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
  EXPECT_EQ(Sql(url_,
                "SELECT replaced_reason FROM ocsp_responder_cert_history WHERE "
                "serial_number = '" +
                    old_serial + "'"),
            "reset by tester");
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'ocsp.reset-responder'"),
            "started,succeeded");
  // The service notices the new responder (the NOTIFY handler calls Invalidate).
  service->Invalidate({"ocsp", kLocalIssuerId, ""});
  auto answer = Ask(*service, leaf.serial);
  std::string text = Check(answer);
  EXPECT_TRUE(text.find("Response verify OK") != std::string::npos) << text;
  auto parsed = ParseOcspResponse(answer.der);
  ASSERT_TRUE(parsed.ok() && parsed->signer);
  EXPECT_EQ(Serial::FromAsn1(X509_get0_serialNumber(parsed->signer))->hex(), new_serial);
}

TEST_F(OcspResponderOpsTest, ResetKeepKeyReusesTheKey) {
  auto ctx = Context();
  ops::OpReport missing;
  Status s = ops::ResetOcspResponder(ctx, kLocalIssuerId, true, missing).status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(Count("ocsp_responder_certs"), 0);
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events WHERE "
                "action = 'ocsp.reset-responder'"),
            "started,failed");

  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(ctx, boot).ok());
  std::string key = testing::ReadBytes(KeyPath());
  std::string old_serial = Sql(url_, "SELECT serial_number FROM ocsp_responder_certs");
  ops::OpReport report;
  auto kept = ops::ResetOcspResponder(ctx, kLocalIssuerId, true, report);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(testing::ReadBytes(KeyPath()), key);
  EXPECT_EQ(kept->key_backup, "");
  EXPECT_NE(Sql(url_, "SELECT serial_number FROM ocsp_responder_certs"), old_serial);
  EXPECT_TRUE(kept->verified);
}

TEST_F(OcspResponderOpsTest, ResetIsRefusedWhileTheLockIsHeld) {
  auto lock = OperationLock::Acquire(db(), ops::OcspResponderLockName(kLocalIssuerId),
                                     ThisProcess("certctld rotation"));
  ASSERT_TRUE(lock.ok());
  auto ctx = Context();
  ops::OpReport report;
  Status s = ops::ResetOcspResponder(ctx, kLocalIssuerId, false, report).status();
  EXPECT_EQ(s.code(), StatusCode::kBusy);
  EXPECT_NE(s.message().find("certctld rotation"), std::string::npos) << s.message();
  EXPECT_EQ(Count("ocsp_responder_certs"), 0);
  ops::OpReport unknown;
  EXPECT_EQ(ops::ResetOcspResponder(ctx, "iss-nowhere", false, unknown).status().code(),
            StatusCode::kNotFound);
}

TEST_F(OcspResponderOpsTest, StatusReportsEachProblem) {
  auto ctx = Context();
  ops::OpReport missing;
  auto none = ops::DescribeOcspResponder(ctx, kLocalIssuerId, missing);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(Contains(FindingCodes(missing), "ocsp.responder_missing"));
  EXPECT_FALSE(none->generations.at(0).responder.has_value());

  OpRun<ops::ResponderEnsured> boot;
  ASSERT_TRUE(Ensure(ctx, boot).ok());
  OpRun<ops::ResponderStatus> healthy;
  healthy.result = ops::DescribeOcspResponder(ctx, kLocalIssuerId, healthy);
  ASSERT_TRUE(healthy.result.ok());
  EXPECT_TRUE(healthy.findings.empty()) << Dump(healthy);
  EXPECT_EQ(healthy->generations.at(0).key_file.mode, 0600u);
  // The documented JSON layout.
  const auto g = ops::ToJson(*healthy.result)["generations"][0];
  EXPECT_EQ(g["state"], "active");
  EXPECT_EQ(g["responder"]["ocsp_signing"], true);
  EXPECT_EQ(g["responder"]["ocsp_nocheck"], true);
  EXPECT_EQ(g["responder"]["issued_by_generation"], true);
  EXPECT_EQ(g["key_file"]["mode"], "0600");
  EXPECT_EQ(g["key_file"]["matches_certificate"], true);
  EXPECT_EQ(g["history"].size(), 1u);

  ASSERT_EQ(::chmod(KeyPath().c_str(), 0644), 0);
  ops::OpReport mode;
  ASSERT_TRUE(ops::DescribeOcspResponder(ctx, kLocalIssuerId, mode).ok());
  EXPECT_EQ(FindingCodes(mode), std::vector<std::string>{"ocsp.key_mode"});

  auto other = GenerateKey(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(WritePrivateKeyFile(KeyPath(), other->get(), {.keep_backup = false}).ok());
  ops::OpReport mismatch;
  ASSERT_TRUE(ops::DescribeOcspResponder(ctx, kLocalIssuerId, mismatch).ok());
  EXPECT_EQ(FindingCodes(mismatch), std::vector<std::string>{"ocsp.key_mismatch"});

  std::filesystem::remove(KeyPath());
  ops::OpReport gone;
  auto without_key = ops::DescribeOcspResponder(ctx, kLocalIssuerId, gone);
  ASSERT_TRUE(without_key.ok());
  EXPECT_EQ(FindingCodes(gone), std::vector<std::string>{"ocsp.key_missing"});
  EXPECT_FALSE(without_key->generations.at(0).key_file.exists);

  OpRun<ops::ResponderEnsured> fixed;
  ASSERT_TRUE(Ensure(ctx, fixed).ok());
  EXPECT_EQ(fixed->action, ops::ResponderAction::kReplaced);
  FakeClock later(SystemClock::Instance().Now() + config_.ocsp_responder_validity -
                  config_.ocsp_responder_renew_before + std::chrono::hours(1));
  auto late = Timed(later);
  ops::OpReport expiring;
  ASSERT_TRUE(ops::DescribeOcspResponder(late, kLocalIssuerId, expiring).ok());
  EXPECT_EQ(FindingCodes(expiring), std::vector<std::string>{"ocsp.responder_expiring"});
  EXPECT_EQ(expiring.findings[0].severity, "warning");

  ops::OpReport unknown;
  EXPECT_EQ(ops::DescribeOcspResponder(ctx, "iss-nowhere", unknown).status().code(),
            StatusCode::kNotFound);
}

TEST_F(OcspResponderOpsTest, CheckFindsStaleGoodAfterRevokeUntilTheCacheIsTruncated) {
  auto service = NewService();
  auto leaf = Issue();
  auto ctx = Context();
  OpRun<ops::OcspAnswerCheck> agree;
  agree.result = ops::CheckOcspAnswer(ctx, kLocalIssuerId, leaf.serial, nullptr, agree);
  ASSERT_TRUE(agree.result.ok());
  EXPECT_FALSE(agree.has_errors()) << Dump(agree);
  EXPECT_EQ(agree->database.status, OcspCertStatus::kGood);
  ASSERT_TRUE(agree->responder.has_value());
  EXPECT_EQ(agree->responder->certificate.status, OcspCertStatus::kGood);
  EXPECT_EQ(agree->responder->source, ops::OcspAnswerSource::kLive);

  // The runbook's symptom: a "good" answer left in the shared cache behind a
  // revocation (signed before it, put back after it).
  Ask(*service, leaf.serial);
  std::string row =
      Sql(url_, "SELECT encode(response_der, 'hex') FROM ocsp_response_cache");
  Revoke(leaf.serial, "keyCompromise");
  EXPECT_EQ(Count("ocsp_response_cache"), 0);
  Sql(url_,
      "INSERT INTO ocsp_response_cache (issuer_id, serial, cert_id_hash, generation, "
      "cert_status, response_der, this_update, next_update, responder_serial, "
      "revocation_epoch) SELECT 'iss-local', '" +
          leaf.serial +
          "', 'sha1', 1, 0, "
          "decode('" +
          row +
          "', 'hex'), now(), now() + interval '4 days', serial_number, 0 "
          "FROM ocsp_responder_certs");
  OpRun<ops::OcspAnswerCheck> stale;
  stale.result = ops::CheckOcspAnswer(ctx, kLocalIssuerId, leaf.serial, nullptr, stale);
  ASSERT_TRUE(stale.result.ok());
  ASSERT_TRUE(stale.has_errors());
  EXPECT_EQ(stale.findings[0].code, "ocsp.disagreement");
  EXPECT_EQ(stale->database.status, OcspCertStatus::kRevoked);
  EXPECT_EQ(stale->database.reason, "keyCompromise");
  ASSERT_TRUE(stale->responder.has_value());
  EXPECT_EQ(stale->responder->certificate.status, OcspCertStatus::kGood);
  EXPECT_EQ(stale->responder->source, ops::OcspAnswerSource::kCache);

  ops::TruncateScope scope;
  scope.ocsp = true;
  scope.issuer = kLocalIssuerId;
  scope.serial = leaf.serial;
  ops::OpReport truncated;
  auto truncated_rows = ops::TruncateCaches(ctx, scope, truncated);
  ASSERT_TRUE(truncated_rows.ok());
  EXPECT_EQ(truncated_rows->ocsp_rows_deleted, 1);
  OpRun<ops::OcspAnswerCheck> fixed;
  fixed.result = ops::CheckOcspAnswer(ctx, kLocalIssuerId, leaf.serial, nullptr, fixed);
  ASSERT_TRUE(fixed.result.ok());
  EXPECT_FALSE(fixed.has_errors()) << Dump(fixed);
  ASSERT_TRUE(fixed->responder.has_value());
  EXPECT_EQ(fixed->responder->certificate.status, OcspCertStatus::kRevoked);
  EXPECT_EQ(fixed->responder->certificate.reason, "keyCompromise");
  // RFC 3339 timestamps in the JSON.
  std::string next = ops::ToJson(*fixed.result)["responder"]["next_update"];
  EXPECT_TRUE(ParseRfc3339(next).ok()) << next;
  EXPECT_EQ(next.back(), 'Z');
}

TEST_F(OcspResponderOpsTest, CheckThroughAFetcherVerifiesTheAnswer) {
  auto service = NewService();
  auto leaf = Issue();
  auto ctx = Context();
  ops::OcspFetcher fetcher = [&](const std::string& der) -> Result<std::string> {
    return service->Respond(kLocalIssuerId, der).der;
  };
  OpRun<ops::OcspAnswerCheck> report;
  report.result = ops::CheckOcspAnswer(ctx, kLocalIssuerId, leaf.serial, fetcher, report);
  ASSERT_TRUE(report.result.ok());
  EXPECT_FALSE(report.has_errors()) << Dump(report);
  ASSERT_TRUE(report->responder.has_value());
  EXPECT_EQ(report->responder->source, ops::OcspAnswerSource::kFetcher);
  // An answer signed by someone else does not verify.
  auto rogue_ca = CreateSelfSignedCa({}, SystemClock::Instance().Now());
  ops::OcspFetcher rogue = [&](const std::string& der) -> Result<std::string> {
    auto request = ParseOcspRequest(der);
    if (!request.ok()) return request.status();
    auto now = SystemClock::Instance().Now();
    return SignOcspResponse({{&request->ids[0], OcspCertStatus::kGood}},
                            {rogue_ca->cert.get(), rogue_ca->key.get(), now,
                             now + std::chrono::hours(1), nullptr});
  };
  ops::OpReport bad;
  ASSERT_TRUE(ops::CheckOcspAnswer(ctx, kLocalIssuerId, leaf.serial, rogue, bad).ok());
  EXPECT_EQ(FindingCodes(bad).at(0), "ocsp.unverifiable");
  ops::OpReport malformed;
  EXPECT_EQ(ops::CheckOcspAnswer(ctx, kLocalIssuerId, "xyz", nullptr, malformed)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  auto request = ops::MakeOcspRequest(ctx, kLocalIssuerId, "00" + leaf.serial);
  ASSERT_TRUE(request.ok());
  auto parsed = ParseOcspRequest(*request);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->ids[0].hash_name, "sha1");
  EXPECT_EQ(parsed->ids[0].serial->hex(), leaf.serial);
  EXPECT_EQ(ops::MakeOcspRequest(ctx, "iss-nowhere", leaf.serial).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace certctl
