// The conventions every certctl-admin command keeps (issue 4): help, exit
// codes, stable JSON, dry runs, confirmation, locks, audit, output hygiene.
#include <gtest/gtest.h>

#include <thread>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

using testing::Sql;

constexpr char kTopKeys[] =
    "after,before,data,dry_run,duration_ms,error,findings,ok,operation,plan,steps,target";

class ConventionsTest : public testing::AdminTest {
 protected:
  // A realistic state: a revoked and a good certificate, a cached CRL, a
  // responder and a cached OCSP answer.
  void Populate() {
    good_ = Issue("good.example").serial;
    revoked_ = Issue("revoked.example").serial;
    Revoke(revoked_);
    auto ctx = Context();
    ops::OpReport crl, responder;
    // As certctld's scheduler would.
    ASSERT_TRUE(
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, responder).ok());
    ops::OcspService ocsp(Context());
    auto answer = ocsp.RespondForSerial(kLocalIssuerId, good_);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    ASSERT_EQ(Count("ocsp_response_cache"), 1);
    // A trust bundle for `trust reload --dry-run`.
    bundle_ = *dir_ / "est.pem";
    ASSERT_TRUE(WriteFileAtomic(bundle_, *ReadFile(ca_cert_path_), {.mode = 0644}).ok());
    with_trust_ = *dir_ / "with-trust.yaml";
    ASSERT_TRUE(
        WriteFileAtomic(with_trust_,
                        "trust_anchors:\n  - name: est\n    path: " + bundle_ + "\n",
                        {.mode = 0600})
            .ok());
  }
  std::string good_, revoked_, bundle_, with_trust_;
};

// Every command of issue 4 (and db) exists and has --help.
TEST_F(ConventionsTest, EveryCommandHasHelp) {
  const std::vector<std::vector<std::string>> commands = {{"crl", "status"},
                                                          {"crl", "regenerate"},
                                                          {"crl", "verify"},
                                                          {"ocsp", "status"},
                                                          {"ocsp", "reset-responder"},
                                                          {"ocsp", "check"},
                                                          {"cache", "truncate"},
                                                          {"cache", "verify"},
                                                          {"trust", "check"},
                                                          {"trust", "reload"},
                                                          {"audit", "list"},
                                                          {"audit", "verify"},
                                                          {"audit", "anchor"},
                                                          {"db", "migrate"},
                                                          {"db", "status"},
                                                          {"ca", "status"},
                                                          {"ca", "backup"},
                                                          {"ca", "rotate"},
                                                          {"locks", "list"},
                                                          {"locks", "release"},
                                                          {"ocsp", "prune-backups"},
                                                          {"config", "check"},
                                                          {"dr", "check"},
                                                          {"dr", "report"}};
  for (const auto& c : commands) {
    auto args = c;
    args.push_back("--help");
    auto run = Admin(args);
    EXPECT_EQ(run.exit_code, 0) << c[0] << " " << c[1] << run.Both();
    EXPECT_NE(run.out.find("Usage: certctl-admin " + c[0] + " " + c[1]),
              std::string::npos)
        << run.out;
  }
  auto top = Admin({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_EQ(top.out.find("generate-docs"), std::string::npos) << "hidden command shown";
  for (const char* flag : {"--dry-run", "--yes", "--wait"}) {
    EXPECT_NE(Admin({"cache", "truncate", "--help"}).out.find(flag), std::string::npos)
        << flag;
  }
}

TEST_F(ConventionsTest, ExitCodes) {
  // Usage errors: 2, nothing touched.
  EXPECT_EQ(Admin({"crl", "status", "--bogus"}).exit_code, 2);
  EXPECT_EQ(Admin({"crl", "regenerate"}).exit_code, 2);  // neither ISSUER nor --all
  EXPECT_EQ(Admin({"cache", "truncate", "--yes"}).exit_code, 2);
  EXPECT_EQ(Admin({"cache", "truncate", "--crl", "--serial", "ab", "--yes"}).exit_code,
            2);
  EXPECT_EQ(Admin({"-o", "yaml", "crl", "status"}).exit_code, 2);
  auto usage = Admin({"-o", "json", "crl", "status", "--bogus"});
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_EQ(testing::Keys(usage.json), kTopKeys) << usage.Both();
  EXPECT_EQ(usage.json["operation"], "crl.status");
  EXPECT_EQ(usage.json["error"]["code"], "InvalidArgument");
  auto unknown = Admin({"-o", "json", "ocsp", "status", "iss-nope"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Both();
  EXPECT_EQ(unknown.json["error"]["code"], "NotFound") << unknown.out;

  // Database down: 69, with the same JSON document.
  testing::TempDir nothing;
  auto down = Admin({"-o", "json", "crl", "status"},
                    {"CERTCTL_DATABASE_URL=host=" + nothing.path() +
                     " dbname=certctl "
                     "connect_timeout=2"});
  EXPECT_EQ(down.exit_code, 69) << down.Both();
  EXPECT_EQ(testing::Keys(down.json), kTopKeys) << down.out;
  EXPECT_EQ(down.json["error"]["code"], "Unavailable");
  EXPECT_EQ(down.json["operation"], "crl.status");

  // Bad configuration: 78, naming the variable.
  auto config = Admin({"crl", "status"}, {"CERTCTL_CRL_VALIDITY=soon"});
  EXPECT_EQ(config.exit_code, 78) << config.Both();
  EXPECT_NE(config.err.find("CERTCTL_CRL_VALIDITY"), std::string::npos) << config.err;
  auto missing_file = Admin({"--config", *dir_ / "nope.yaml", "crl", "status"});
  EXPECT_EQ(missing_file.exit_code, 78) << missing_file.Both();

  // A finding: 1. A clean check: 0.
  EXPECT_EQ(Admin({"crl", "status", "iss-local"}).exit_code, 1);  // no CRL cached yet
  EXPECT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  EXPECT_EQ(Admin({"crl", "status", "iss-local"}).exit_code, 0);
}

// One JSON document per run with the same top-level keys everywhere, and the
// documented data keys of each command.
TEST_F(ConventionsTest, JsonIsOneStableDocument) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string bad = *dir_ / "bad.pem";
  ASSERT_TRUE(WriteFileAtomic(bad, "junk\n", {.mode = 0644}).ok());
  struct Case {
    std::vector<std::string> args;
    std::string data_keys;
  };
  const std::vector<Case> cases = {
      {{"crl", "status", "iss-local"}, "issuers"},
      {{"crl", "status", "--all"}, "issuers"},
      {{"crl", "regenerate", "iss-local"}, "issuers"},
      {{"crl", "regenerate", "--all", "--dry-run"}, "issuers"},
      {{"crl", "regenerate", "iss-local", "--invalidate-only", "--yes"}, "issuers"},
      {{"ocsp", "status", "iss-local"}, "generations,issuer"},
      {{"ocsp", "check", "iss-local", good_}, "database,issuer,responder,serial"},
      {{"ocsp", "reset-responder", "iss-local", "--yes"},
       "generation,issuer,keep_key,key_backup,key_path,ocsp_rows_deleted,old_serial,"
       "responder,"
       "verified"},
      {{"cache", "verify"}, "bad,fixed,scanned"},
      {{"cache", "truncate", "--all", "--yes"}, "crl_rows_deleted,ocsp_rows_deleted"},
      {{"trust", "check", bundle_}, "certificates,message,path,problem"},
      {{"trust", "check", bad}, "certificates,message,path,problem"},
      {{"--config", with_trust_, "trust", "reload", "--dry-run"}, "bundles"},
      {{"audit", "list", "--since", "1h"}, "count,events,limited"},
      {{"audit", "verify"},
       "acknowledged,anchors,breaks,first_broken_id,head,intact,key_id,keyed_rows,"
       "problem,rows_checked,unkeyed_rows,unlisted_breaks"},
      {{"audit", "anchor", "--reason", "test", "--dry-run"},
       "acknowledged,anchors,event_id"},
      {{"db", "status"}, "applied,current_version,latest_version,pending"},
      {{"db", "post-restore", "--dry-run"},
       "checks,crl_cache_rows_deleted,crl_numbers,migrated,ocsp_cache_rows_deleted,"
       "published,reapplied,regenerated,unknown_certificates"},
      {{"ca", "status", "iss-local"}, "issuers,thresholds"},
      {{"ca", "backup", "iss-local", "--to", *dir_ / "json-backup"},
       "backup_id,directory,issuer,manifest,manifest_sha256"},
      {{"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups", "--dry-run"},
       "backup_path,cert_path,csr_path,from_generation,issuer,key_path,mode,"
       "new_fingerprint,next,old_fingerprint,plan,rotation,state,steps,test_serials,"
       "to_generation"},
      {{"locks", "list"}, "host,locks"},
      {{"ocsp", "prune-backups", "--dry-run"}, "directory,kept,named,removed,retention"},
      {{"dr", "check", "--profile", "quarterly"},
       "checked_at,checks,counts,profile,recorded,status"},
      {{"dr", "report", "--since", "1d"}, "audit_log,sections,since,until"},
  };
  for (const auto& c : cases) {
    auto args = c.args;
    args.insert(args.begin(), {"--output", "json"});
    auto run = Admin(args);
    std::string what = c.args[0] + " " + c.args[1];
    ASSERT_FALSE(run.json.is_discarded()) << what << run.Both();
    EXPECT_EQ(testing::Keys(run.json), kTopKeys) << what;
    EXPECT_EQ(testing::Keys(run.json["data"]), c.data_keys) << what << "\n" << run.out;
    EXPECT_TRUE(run.err.empty()) << what << ": " << run.err;
  }
  // The per-issuer entries of crl regenerate.
  auto regen = Admin({"-o", "json", "crl", "regenerate", "iss-local"});
  EXPECT_EQ(testing::Keys(regen.json["data"]["issuers"][0]), "crls,error,issuer,ok");
  EXPECT_EQ(
      testing::Keys(regen.json["data"]["issuers"][0]["crls"][0]),
      "crl_number,duration_ms,generation,next_update,revoked_count,size,this_update");
  auto invalidate =
      Admin({"-o", "json", "crl", "regenerate", "--all", "--invalidate-only", "--yes"});
  EXPECT_EQ(testing::Keys(invalidate.json["data"]["issuers"][0]),
            "error,issuer,next_fetch,ok,rows_deleted,rows_to_delete");
  auto events = Admin({"-o", "json", "audit", "list"});
  ASSERT_FALSE(events.json["data"]["events"].empty());
  EXPECT_EQ(
      testing::Keys(events.json["data"]["events"][0]),
      "action,actor,command_line,correlation_id,detail,duration_ms,host,id,occurred_at,"
      "outcome,parameters,target");
}

// --dry-run on every mutating command changes nothing: every table's rows
// and content, and every file (keys, CA, bundles) are the same afterwards.
TEST_F(ConventionsTest, DryRunChangesNothing) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<std::vector<std::string>> commands = {
      {"crl", "regenerate", "iss-local"},
      {"crl", "regenerate", "--all"},
      {"crl", "regenerate", "iss-local", "--invalidate-only"},
      {"ocsp", "reset-responder", "iss-local"},
      {"ocsp", "reset-responder", "iss-local", "--keep-key"},
      {"cache", "truncate", "--all"},
      {"cache", "truncate", "--ocsp", "--issuer", "iss-local", "--serial", good_},
      {"cache", "verify", "--fix"},
      {"--config", with_trust_, "trust", "reload", "--all"},
      {"--config", with_trust_, "trust", "reload", "--signal"},
      {"db", "migrate"},
      {"db", "post-restore"},
      {"audit", "anchor", "--reason", "test"},
      {"ca", "backup", "iss-local", "--to", *dir_ / "dry-backup"},
      {"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups"},
      {"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups", "--key-type",
       "rsa-3072", "--subject", "CN=Other CA"},
      {"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups", "--csr-out",
       *dir_ / "g2.csr"},
      {"ocsp", "prune-backups"},
  };
  auto before = Snapshot();
  for (const auto& c : commands) {
    auto args = c;
    args.insert(args.begin(), {"-o", "json"});
    args.push_back("--dry-run");
    auto run = Admin(args);
    std::string what = run.json.is_discarded() ? c[0] : run.json.value("operation", c[0]);
    EXPECT_EQ(run.exit_code, 0) << what << run.Both();
    EXPECT_EQ(run.json["dry_run"], true) << what;
    // Nothing to plan: every cached answer is good, the schema is current,
    // the audit log has no break.
    if (what != "cache.verify" && what != "db.migrate" && what != "audit.anchor" &&
        what != "ocsp.prune-backups") {
      EXPECT_FALSE(run.json["plan"].empty()) << what << " has no plan";
    }
    EXPECT_EQ(Snapshot(), before) << what << " changed something in a dry run";
  }
}

// Destructive commands without --yes, stdin not a terminal: exit 2 and
// nothing changed (not even an audit event).
TEST_F(ConventionsTest, DestructiveCommandsNeedYesWithoutATerminal) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  const std::vector<std::vector<std::string>> commands = {
      {"crl", "regenerate", "iss-local", "--invalidate-only"},
      {"ocsp", "reset-responder", "iss-local"},
      {"cache", "truncate", "--all"},
      {"cache", "truncate", "--ocsp", "--issuer", "iss-local", "--serial", good_},
      {"cache", "verify", "--fix"},
      {"audit", "anchor", "--reason", "test"},
      {"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups"},
      {"ocsp", "prune-backups"},
      {"locks", "release", "crl:iss-local"},
  };
  auto before = Snapshot();
  for (const auto& c : commands) {
    auto run = Admin(c);
    EXPECT_EQ(run.exit_code, 2) << c[0] << " " << c[1] << run.Both();
    EXPECT_NE(run.err.find("--yes"), std::string::npos) << run.err;
    EXPECT_EQ(Snapshot(), before) << c[0] << " " << c[1] << " changed something";
  }
  // Non-destructive mutations need no --yes.
  EXPECT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
}

// A held lock: exit 75 at once naming the holder; the attempt is audited.
TEST_F(ConventionsTest, HeldLockExits75NamingTheHolder) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  struct Case {
    std::string lock;
    std::vector<std::string> args;
    std::string action;
  };
  const std::vector<Case> cases = {
      {"crl:iss-local", {"crl", "regenerate", "iss-local"}, "crl.regenerate"},
      {"crl:iss-local",
       {"crl", "regenerate", "iss-local", "--invalidate-only", "--yes"},
       "crl.invalidate"},
      {"ocsp-responder:iss-local",
       {"ocsp", "reset-responder", "iss-local", "--yes"},
       "ocsp.reset-responder"},
      {"ocsp-cache:iss-local",
       {"cache", "truncate", "--ocsp", "--issuer", "iss-local", "--yes"},
       "cache.truncate"},
      {"cache:*", {"cache", "verify", "--fix", "--yes"}, "cache.verify"},
      {"ca:iss-local", {"ca", "backup", "iss-local", "--to", *dir_ / "b"}, "ca.backup"},
      {"ca:iss-local",
       {"ca", "rotate", "iss-local", "--backup-dir", *dir_ / "backups", "--yes"},
       "ca.rotate"},
  };
  for (const auto& c : cases) {
    auto lock = HoldLock(c.lock);
    ASSERT_NE(lock, nullptr);
    auto before = Snapshot();
    auto run = Admin(c.args);
    EXPECT_EQ(run.exit_code, 75) << c.action << run.Both();
    for (const char* part : {"certctld", "host-a", "pid 4242", "since"}) {
      EXPECT_NE(run.err.find(part), std::string::npos) << c.action << ": " << run.err;
    }
    EXPECT_EQ(AuditOutcomes(c.action), "started,failed") << c.action;
    lock.reset();
    // Nothing but the two audit events (and the anchor naming them) changed.
    auto after = Snapshot();
    for (auto* s : {&before, &after}) {
      s->erase("table audit_events");
      s->erase("file " + config_.audit_anchor_file);
    }
    EXPECT_EQ(after, before) << c.action;
  }
}

TEST_F(ConventionsTest, WaitOutlastsAHeldLock) {
  auto lock = HoldLock("crl:iss-local");
  ASSERT_NE(lock, nullptr);
  // Released once the command has written its start event: it is at the
  // lock then (it takes it right after), and keeps trying under --wait.
  std::thread release([&] {
    EXPECT_TRUE(testing::Eventually(
        [&] { return AuditOutcomes("crl.regenerate") == "started"; }));
    lock.reset();
  });
  auto run = Admin({"crl", "regenerate", "iss-local", "--wait", "60s"});
  release.join();
  EXPECT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_EQ(AuditOutcomes("crl.regenerate"), "started,succeeded");
  EXPECT_EQ(Admin({"crl", "regenerate", "iss-local", "--wait", "soon"}).exit_code, 2);
}

// Every mutating command writes a start and an end event, on success and on
// failure, with the actor, host and masked command line.
TEST_F(ConventionsTest, MutatingCommandsAuditStartAndEnd) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  struct Case {
    std::vector<std::string> args;
    std::string action;
  };
  const std::vector<Case> ok = {
      {{"crl", "regenerate", "--all"}, "crl.regenerate"},
      {{"crl", "regenerate", "iss-local", "--invalidate-only", "--yes"},
       "crl.invalidate"},
      {{"ocsp", "reset-responder", "iss-local", "--yes"}, "ocsp.reset-responder"},
      {{"cache", "truncate", "--all", "--yes"}, "cache.truncate"},
      {{"cache", "verify", "--fix", "--yes"}, "cache.verify"},
      {{"db", "migrate"}, "db.migrate"},
      {{"ca", "backup", "iss-local", "--to", *dir_ / "audited-backup"}, "ca.backup"},
      {{"ocsp", "prune-backups", "--yes"}, "ocsp.prune-backups"},
  };
  for (const auto& c : ok) {
    auto args = c.args;
    args.insert(args.begin(), {"--actor", "alice"});
    auto run = Admin(args);
    EXPECT_EQ(run.exit_code, 0) << c.action << run.Both();
    EXPECT_EQ(AuditOutcomes(c.action), "started,succeeded") << c.action;
  }
  EXPECT_EQ(Sql(url_,
                "SELECT count(*) FROM audit_events WHERE action = 'cache.truncate' AND "
                "actor = 'alice' AND host <> '' AND command_line LIKE "
                "'certctl-admin %cache truncate --all --yes'"),
            "2");

  // Failures: the operation itself fails (no key to keep), or certctld
  // cannot be reached.
  ASSERT_TRUE(std::filesystem::remove_all(KeyDir()));
  auto keep = Admin({"ocsp", "reset-responder", "iss-local", "--keep-key", "--yes"});
  EXPECT_NE(keep.exit_code, 0) << keep.Both();
  EXPECT_EQ(AuditOutcomes("ocsp.reset-responder"), "started,succeeded,started,failed");
  auto unreachable = Admin({"trust", "reload", "est", "--url",
                            "https://127.0.0.1:" + std::to_string(e2e::FreePort())},
                           {"CERTCTL_API_KEY=" + api_key_});
  EXPECT_EQ(unreachable.exit_code, 69) << unreachable.Both();
  EXPECT_EQ(AuditOutcomes("trust.reload.request"), "started,failed");
  EXPECT_EQ(Sql(url_,
                "SELECT detail LIKE '%Unavailable%' FROM audit_events WHERE action = "
                "'trust.reload.request' AND outcome = 'failed'"),
            "t");
}

// Secrets given on the command line never reach the audit log.
TEST_F(ConventionsTest, SecretsAreMaskedInTheAuditCommandLine) {
  ASSERT_EQ(Admin({"--database-url", url_, "crl", "regenerate", "iss-local"}).exit_code,
            0);
  ASSERT_EQ(Admin({"--database-url=" + url_, "crl", "regenerate", "iss-local"}).exit_code,
            0);
  std::string lines = Sql(url_,
                          "SELECT string_agg(command_line, '\n' ORDER BY id) FROM "
                          "audit_events WHERE action = 'crl.regenerate'");
  EXPECT_EQ(lines.find(url_), std::string::npos) << lines;
  EXPECT_NE(lines.find("--database-url ******** crl regenerate"), std::string::npos)
      << lines;
  EXPECT_NE(lines.find("--database-url=******** crl regenerate"), std::string::npos)
      << lines;
}

// Without a terminal: no progress, no colour, nothing on stderr on success.
TEST_F(ConventionsTest, QuietAndPlainWithoutATerminal) {
  for (int i = 0; i < 3; ++i) Revoke(Issue("c" + std::to_string(i) + ".example").serial);
  auto run = Admin({"crl", "regenerate", "iss-local"});
  EXPECT_EQ(run.exit_code, 0) << run.Both();
  EXPECT_TRUE(run.err.empty()) << run.err;
  EXPECT_EQ(run.out.find('\033'), std::string::npos) << run.out;
  auto status = Admin({"crl", "status", "iss-local"});
  EXPECT_EQ(status.out.find('\033'), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("iss-local generation 1: ok"), std::string::npos)
      << status.out;
}

// On a terminal (script(1) gives the command one): colour, unless NO_COLOR;
// a destructive command asks and, unconfirmed, changes nothing.
TEST_F(ConventionsTest, TerminalGetsColourAndAQuestion) {
  auto on_tty = [&](const std::string& args, const std::vector<std::string>& env) {
    ProcessOptions options;
    for (const auto& [k, v] : Environment()) options.extra_env.push_back(k + "=" + v);
    for (const auto& e : env) options.extra_env.push_back(e);
    std::string cmd =
        std::string(CERTCTL_ADMIN_PATH) + " --config " + empty_config_ + " " + args;
    auto r = RunProcess({"script", "-qefc", cmd, "/dev/null"}, options);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : ProcessResult{};
  };
  auto coloured = on_tty("crl status iss-local", {});
  EXPECT_EQ(coloured.exit_code, 1) << coloured.output;  // missing: no CRL yet
  EXPECT_NE(coloured.output.find("\033[31mmissing\033[0m"), std::string::npos)
      << coloured.output;
  auto plain = on_tty("crl status iss-local", {"NO_COLOR=1"});
  EXPECT_EQ(plain.output.find('\033'), std::string::npos) << plain.output;
  EXPECT_NE(plain.output.find("missing"), std::string::npos) << plain.output;

  // Long work reports progress on a terminal (and nothing without one, see
  // QuietAndPlainWithoutATerminal), then clears the line.
  Revoke(Issue("progress.example").serial);
  auto regenerated = on_tty("crl regenerate iss-local", {});
  EXPECT_EQ(regenerated.exit_code, 0) << regenerated.output;
  EXPECT_NE(regenerated.output.find("CRL entries 1/1 (100%)"), std::string::npos)
      << regenerated.output;
  EXPECT_NE(regenerated.output.find("\r\033[K"), std::string::npos) << regenerated.output;

  auto before = Snapshot();
  auto asked = on_tty("cache truncate --crl", {});
  EXPECT_EQ(asked.exit_code, 2) << asked.output;
  EXPECT_NE(asked.output.find("[y/N]"), std::string::npos) << asked.output;
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace certctl
