// ops::RotateCa on the harness PostgreSQL: generate and sub-CA modes, the
// journal, --resume and --abort, the plan, the lock, and the checks of what
// the rotation leaves (files, rows, the new CA's profile) with the openssl CLI.
#include "certctl/ops/ca_rotate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "certctl/ops/ca_backup.h"
#include "certctl/ops/ca_rotate_json.h"
#include "certctl/ops/op_json.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/files.h"
#include "ops/ocsp_test_helpers.h"
#include "store/operation_lock.h"

namespace certctl {
namespace {

namespace fs = std::filesystem;
using testing::RunOpenssl;
using testing::Sql;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

class CaRotateTest : public testing::OcspFixture {
 protected:
  testing::OpRun<ops::CaRotation> Rotate(ops::RotateRequest request,
                                         bool dry_run = false) {
    if (request.issuer.empty()) request.issuer = kLocalIssuerId;
    if (request.action == ops::RotationAction::kStart && request.backup_dir.empty()) {
      request.backup_dir = *dir_ / "backups";
    }
    auto ctx = Context(dry_run);
    testing::OpRun<ops::CaRotation> run;
    run.result = ops::RotateCa(ctx, request, run);
    return run;
  }

  static ops::RotateRequest Action(ops::RotationAction action) {
    ops::RotateRequest r;
    r.action = action;
    return r;
  }

  std::string Generations() {
    return Sql(url_,
               "SELECT string_agg(generation || ':' || state, ',' ORDER BY generation) "
               "FROM ca_generations");
  }

  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  // Makes the responder key directory unusable (a file where it should be),
  // so a rotation stops at bootstrap-responder; returns the undo.
  std::function<void()> BreakResponderDirectory() {
    std::string key_dir = config_.ocsp_responder_key_dir;
    std::string aside = key_dir + ".aside";
    if (fs::exists(key_dir)) fs::rename(key_dir, aside);
    EXPECT_TRUE(WriteFileAtomic(key_dir, "not a directory\n", {.mode = 0600}).ok());
    return [key_dir, aside] {
      fs::remove(key_dir);
      if (fs::exists(aside)) fs::rename(aside, key_dir);
    };
  }
};

TEST_F(CaRotateTest, GenerateModeAddsAnActiveGenerationAndVerifiesIt) {
  auto a = Issue("a.example");
  std::string g1_subject = Sql(url_, "SELECT subject FROM ca_generations");
  auto run = Rotate({});
  ASSERT_TRUE(run.result.ok()) << ops::ReportJson(run, run.result).dump(2);
  const ops::CaRotation& r = *run.result;
  EXPECT_EQ(r.state, "completed");
  EXPECT_EQ(r.from_generation, 1);
  EXPECT_EQ(r.to_generation, 2);
  EXPECT_EQ(r.next, "");
  for (const auto& s : r.steps) EXPECT_EQ(s.state, "done") << s.name << ": " << s.detail;
  EXPECT_EQ(r.steps.size(), 8u);
  EXPECT_EQ(Generations(), "1:retired,2:active");

  // The files: next to the old key, the key 0600, nothing written over.
  EXPECT_EQ(r.key_path, fs::path(ca_key_path_).parent_path() / "iss-local-ca-g2.key");
  EXPECT_EQ(r.cert_path, fs::path(ca_key_path_).parent_path() / "iss-local-ca-g2.crt");
  EXPECT_EQ(Mode(r.key_path), 0600u);
  EXPECT_EQ(Sql(url_, "SELECT key_path FROM ca_generations WHERE generation = 2"),
            r.key_path);
  // The new CA's profile, as openssl shows it.
  std::string text = RunOpenssl({"x509", "-in", r.cert_path, "-noout", "-text"});
  EXPECT_TRUE(Has(text, "X509v3 Basic Constraints: critical\n                CA:TRUE"))
      << text;
  EXPECT_TRUE(Has(text,
                  "X509v3 Key Usage: critical\n                Certificate Sign, "
                  "CRL Sign"))
      << text;
  EXPECT_TRUE(Has(text, "X509v3 Subject Key Identifier")) << text;
  EXPECT_EQ(Sql(url_, "SELECT subject FROM ca_generations WHERE generation = 2"),
            g1_subject);
  std::string pubkey = RunOpenssl({"pkey", "-in", r.key_path, "-pubout"});
  EXPECT_EQ(pubkey, RunOpenssl({"x509", "-in", r.cert_path, "-noout", "-pubkey"}));

  // The backup: a directory 0700 of files 0600, with a manifest.
  ASSERT_FALSE(r.backup_path.empty());
  EXPECT_EQ(Mode(r.backup_path), 0700u);
  EXPECT_TRUE(fs::exists(r.backup_path + "/manifest.json"));
  EXPECT_EQ(Mode(r.backup_path + "/ca-g1.key"), 0600u);
  EXPECT_EQ(*ReadFile(r.backup_path + "/ca-g1.key"), *ReadFile(ca_key_path_));
  // It is `ca backup`'s backup: recorded, and `ca backup --verify` accepts it
  // (against the database as it was: generation 2 came after it).
  EXPECT_EQ(Sql(url_, "SELECT directory FROM ca_backups"), r.backup_path);
  auto ctx = Context();
  ops::OpReport verify_report;
  auto verified = ops::VerifyCaBackup(ctx, r.backup_path, verify_report);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  for (const auto& f : verify_report.findings) {
    EXPECT_TRUE(f.code == "ca.backup_generation_missing") << f.code << ": " << f.message;
  }

  // The verify step's test certificate: issued by g2 and revoked.
  ASSERT_EQ(r.test_serials.size(), 1u);
  EXPECT_EQ(Sql(url_,
                "SELECT generation || ':' || reason FROM certificate_revocations "
                "WHERE serial = '" +
                    r.test_serials[0] + "'"),
            "2:4");
  // The audit trail: started and succeeded, with both fingerprints.
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'ca.rotate'"),
            "started,succeeded");
  std::string params = Sql(url_,
                           "SELECT parameters FROM audit_events WHERE action = "
                           "'ca.rotate' AND outcome = 'succeeded'");
  EXPECT_TRUE(Has(params, r.old_fingerprint)) << params;
  EXPECT_TRUE(Has(params, r.new_fingerprint)) << params;
  EXPECT_EQ(r.new_fingerprint,
            Sql(url_, "SELECT cert_sha256 FROM ca_generations WHERE generation = 2"));

  // New certificates chain to generation 2; A is still answered by g1.
  auto b = Issue("b.example");
  EXPECT_EQ(b.generation, 2);
  auto service = NewService();
  auto answer = service->RespondForSerial(kLocalIssuerId, a.serial);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->cert_status, "good");
}

TEST_F(CaRotateTest, GeneratedKeyTypeValidityAndSubjectAreAsAsked) {
  ops::RotateRequest req;
  req.key_type = "ed25519";
  req.validity = "2y";
  req.subject = "CN=certctl Local CA G2,O=example\\, Inc.";
  auto run = Rotate(req);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  std::string text = RunOpenssl(
      {"x509", "-in", run->cert_path, "-noout", "-text", "-nameopt", "RFC2253"});
  EXPECT_TRUE(Has(text, "ED25519")) << text;
  EXPECT_TRUE(Has(text, "Subject: CN=certctl Local CA G2,O=example\\, Inc.")) << text;
  auto cert = LoadCertificateFile(run->cert_path);
  ASSERT_TRUE(cert.ok());
  auto days = std::chrono::duration_cast<std::chrono::hours>(NotAfter(cert->get()) -
                                                             NotBefore(cert->get()))
                  .count() /
              24;
  EXPECT_EQ(days, 730);  // 2 * 365 days (and the minute of skew)
}

TEST_F(CaRotateTest, BadRequestsAreRefusedBeforeAnythingHappens) {
  int64_t events = Count("audit_events");
  struct Case {
    std::string what;
    ops::RotateRequest request;
    std::string reason;
  };
  std::vector<Case> cases;
  cases.push_back({"key type", {}, "is not one of ec-p256"});
  cases.back().request.key_type = "rsa-1024";
  cases.push_back({"validity", {}, "is not a duration"});
  cases.back().request.validity = "forever";
  cases.push_back({"validity shorter than a leaf", {}, "the CA would expire first"});
  cases.back().request.validity = "30d";
  cases.push_back({"subject", {}, "attribute type"});
  cases.back().request.subject = "XX=nope";
  cases.push_back({"no backup dir", {}, "--backup-dir DIR is required"});
  for (auto& c : cases) {
    SCOPED_TRACE(c.what);
    auto ctx = Context();
    ops::OpReport report;
    c.request.issuer = kLocalIssuerId;
    if (c.what != "no backup dir") c.request.backup_dir = *dir_ / "backups";
    auto r = ops::RotateCa(ctx, c.request, report);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_TRUE(Has(r.status().message(), c.reason)) << r.status().message();
  }
  EXPECT_EQ(Count("audit_events"), events);
  EXPECT_EQ(Count("ca_rotations"), 0);
  EXPECT_EQ(Generations(), "1:active");
  auto unknown = Rotate({.issuer = "iss-nope"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(CaRotateTest, DryRunPlansAndChangesNothing) {
  int64_t events = Count("audit_events");
  auto run = Rotate({}, /*dry_run=*/true);
  ASSERT_TRUE(run.result.ok()) << run.status().ToString();
  EXPECT_EQ(run->state, "planned");
  ASSERT_TRUE(run->plan.has_value());
  std::string plan;
  for (const auto& line : run.plan) plan += line + "\n";
  EXPECT_TRUE(Has(plan, run->key_path + " (0600")) << plan;
  EXPECT_TRUE(Has(plan, "ca_generations: iss-local/g2 (pending)")) << plan;
  EXPECT_TRUE(Has(plan, "running certctld processes hear NOTIFY")) << plan;
  EXPECT_TRUE(Has(plan, "new certificates are signed by iss-local/g2")) << plan;
  EXPECT_EQ(Count("audit_events"), events);
  EXPECT_EQ(Count("ca_rotations"), 0);
  EXPECT_EQ(Generations(), "1:active");
  EXPECT_FALSE(fs::exists(run->key_path));
  EXPECT_FALSE(fs::exists(*dir_ / "backups"));
}

TEST_F(CaRotateTest, AHeldCaLockIsBusyNamingTheHolderAndChangesNothing) {
  auto lock = OperationLock::Acquire(db(), ops::CaLockName(kLocalIssuerId),
                                     {"certctld", "host-a", 4242});
  ASSERT_TRUE(lock.ok());
  auto run = Rotate({});
  EXPECT_EQ(run.status().code(), StatusCode::kBusy);
  EXPECT_TRUE(Has(run.status().message(), "pid 4242 on host-a"))
      << run.status().message();
  EXPECT_EQ(Count("ca_rotations"), 0);
  EXPECT_EQ(Generations(), "1:active");
  EXPECT_FALSE(fs::exists(*dir_ / "iss-local-ca-g2.key"));
}

// A rotation that stops at a step is unfinished: a second one is refused,
// --resume finishes it, and it is reported with the step it stopped at.
TEST_F(CaRotateTest, AnInterruptedRotationIsResumed) {
  auto undo = BreakResponderDirectory();
  auto stopped = Rotate({});
  ASSERT_FALSE(stopped.result.ok());
  EXPECT_TRUE(Has(stopped.status().message(), "step bootstrap-responder"))
      << stopped.status().message();
  EXPECT_TRUE(Has(stopped.status().message(), "--resume")) << stopped.status().message();
  EXPECT_EQ(Generations(), "1:active,2:pending");
  EXPECT_EQ(Sql(url_,
                "SELECT string_agg(outcome, ',' ORDER BY id) FROM audit_events "
                "WHERE action = 'ca.rotate'"),
            "started,failed");

  auto ctx = Context();
  auto unfinished = ops::FindUnfinishedCaRotation(ctx, kLocalIssuerId);
  ASSERT_TRUE(unfinished.ok() && unfinished->has_value());
  EXPECT_EQ((*unfinished)->state, "running");
  std::map<std::string, std::string> states;
  for (const auto& s : (*unfinished)->steps) states[s.name] = s.state;
  EXPECT_EQ(states["write-key"], "done");
  EXPECT_EQ(states["bootstrap-responder"], "interrupted");
  EXPECT_EQ(states["switch-issuance"], "to do");

  auto second = Rotate({});
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Has(second.status().message(), "is unfinished"))
      << second.status().message();

  undo();
  auto resumed = Rotate(Action(ops::RotationAction::kResume));
  ASSERT_TRUE(resumed.result.ok()) << ops::ReportJson(resumed, resumed.result).dump(2);
  EXPECT_EQ(resumed->state, "completed");
  EXPECT_EQ(Generations(), "1:retired,2:active");
  for (const auto& s : resumed->steps) {
    EXPECT_EQ(s.state, "done") << s.name;
    EXPECT_EQ(s.attempts, s.name == "bootstrap-responder" ? 2 : 1) << s.name;
  }
  auto none = Rotate(Action(ops::RotationAction::kResume));
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST_F(CaRotateTest, AbortBeforeTheSwitchKeepsTheOldGenerationAndEveryFile) {
  auto undo = BreakResponderDirectory();
  auto stopped = Rotate({});
  ASSERT_FALSE(stopped.result.ok());
  undo();
  std::string key = *dir_ / "iss-local-ca-g2.key";
  ASSERT_TRUE(fs::exists(key));
  auto aborted = Rotate(Action(ops::RotationAction::kAbort));
  ASSERT_TRUE(aborted.result.ok()) << aborted.status().ToString();
  EXPECT_EQ(aborted->state, "aborted");
  EXPECT_EQ(Generations(), "1:active,2:retired");
  EXPECT_TRUE(fs::exists(key));  // no file is deleted
  EXPECT_EQ(Issue("after-abort.example").generation, 1);
  // The next rotation takes a new number: generation 2's files stay its own.
  auto next = Rotate({});
  ASSERT_TRUE(next.result.ok()) << next.status().ToString();
  EXPECT_EQ(next->to_generation, 3);
  EXPECT_EQ(Generations(), "1:retired,2:retired,3:active");
}

// After the switch, --abort makes generation 1 active again; generation 2
// keeps serving what it issued (the test certificate, revoked).
TEST_F(CaRotateTest, AbortAfterTheSwitchReactivatesTheOldGeneration) {
  auto done = Rotate({});
  ASSERT_TRUE(done.result.ok()) << done.status().ToString();
  // As if killed before the verify step was done.
  Sql(url_, "UPDATE ca_rotations SET state = 'running', finished_at = NULL");
  Sql(url_, "UPDATE ca_rotation_steps SET done_at = NULL WHERE step = 'verify'");
  auto leftover = Issue("issued-by-g2.example");
  EXPECT_EQ(leftover.generation, 2);
  auto aborted = Rotate(Action(ops::RotationAction::kAbort));
  ASSERT_TRUE(aborted.result.ok()) << aborted.status().ToString();
  EXPECT_EQ(Generations(), "1:active,2:retired");
  EXPECT_EQ(Issue("back.example").generation, 1);
  auto service = NewService();
  auto answer = service->RespondForSerial(kLocalIssuerId, leftover.serial);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->cert_status, "good");
}

}  // namespace
}  // namespace certctl
