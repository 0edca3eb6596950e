// certctl-admin db restore-check, run as the real binary on real pg_dump
// output of a populated database: the verdict and each reason it names, the
// formats, older schemas, truncated and foreign files, the live side, and
// that nothing outside the scratch database changes and the scratch
// database is gone afterwards (or kept with --keep).
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <filesystem>

#include "certctl/ops/crl_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"
#include "store/local_cluster.h"
#include "store/migrator.h"

namespace certctl {
namespace {

constexpr char kEncryptionKey[] = "restore-check-test-encryption-key-0123456789";

class RestoreCheckTest : public testing::AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    if (HasFatalFailure()) return;
    dumps_ = std::make_unique<testing::TempDir>();
  }

  // What a working installation has: certificates (one revoked), a CRL, a
  // responder with its key file, audit events, and the key-check value of
  // the encryption key (recorded by `db migrate`).
  void Populate() {
    for (const char* cn : {"a.example", "b.example", "c.example", "d.example"}) {
      serials_.push_back(Issue(cn).serial);
    }
    Revoke(serials_[0], "keyCompromise");
    auto ctx = Context();
    ops::OpReport crl, responder;
    ASSERT_TRUE(
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());
    ASSERT_TRUE(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, responder).ok());
    auto migrate = Admin({"db", "migrate"}, Secrets());
    ASSERT_EQ(migrate.exit_code, 0) << migrate.Both();
    ASSERT_EQ(testing::Sql(url_, "SELECT count(*) FROM config_encryption_key_check"),
              "1");
  }

  std::vector<std::string> Secrets() const {
    return {"CERTCTL_API_KEY=" + api_key_,
            std::string("CERTCTL_CONFIG_ENCRYPTION_KEY=") + kEncryptionKey,
            "CERTCTL_AGENT_BOOTSTRAP_TOKEN=bootstrap-token-for-tests"};
  }

  static std::string PgProgram(const std::string& name) {
    auto dir = FindPostgresBinDir();
    EXPECT_TRUE(dir.ok()) << dir.status().ToString();
    return dir.ok() ? *dir + "/" + name : name;
  }

  // pg_dump of `database` in `format` (c, d, t or p), as an operator takes it.
  std::string Dump(const std::string& format, const std::string& name,
                   const std::string& database_url = "") {
    std::string path = *dumps_ / name;
    auto r = RunProcess({PgProgram("pg_dump"), "--format=" + format, "--file=" + path,
                         "--dbname=" + (database_url.empty() ? url_ : database_url)});
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->output : "not run");
    return path;
  }

  testing::AdminRun Check(std::vector<std::string> args,
                          std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"-o", "json", "db", "restore-check"});
    auto vars = Secrets();
    vars.insert(vars.end(), env.begin(), env.end());
    return Admin(args, vars);
  }

  std::string ScratchDatabases() {
    return testing::Sql(url_,
                        "SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') "
                        "FROM pg_database WHERE datname LIKE 'certctl_restore_check_%'");
  }

  static std::vector<std::string> Codes(const nlohmann::json& document) {
    std::vector<std::string> out;
    for (const auto& f : document["findings"]) out.push_back(f["code"]);
    return out;
  }

  static bool HasCode(const nlohmann::json& document, const std::string& code) {
    auto codes = Codes(document);
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  }

  // The document's error message (JSON output puts it there, not on stderr).
  static std::string ErrorMessage(const testing::AdminRun& run) {
    const auto& e = run.json["error"];
    return e.is_object() ? e["message"].get<std::string>() : "";
  }

  static std::string Message(const nlohmann::json& document, const std::string& code) {
    for (const auto& f : document["findings"]) {
      if (f["code"] == code) return f["message"];
    }
    return "";
  }

  std::unique_ptr<testing::TempDir> dumps_;
  std::vector<std::string> serials_;
};

TEST_F(RestoreCheckTest, APopulatedDumpIsUsableAndNothingElseChanges) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  std::string events_before = testing::Sql(url_, "SELECT max(id) FROM audit_events");
  auto before = Snapshot();

  auto run = Check({"--dump", dump});
  ASSERT_EQ(run.exit_code, 0) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["verdict"], "usable") << run.out;
  EXPECT_EQ(d["reasons"], nlohmann::json::array());
  EXPECT_EQ(testing::Keys(d),
            "audit,dump_schema_version,encryption_key,extra_tables,"
            "foreign_key_violations,format,kept,key_files,migrations_applied,"
            "missing_tables,phases,reasons,reused_crl_numbers,"
            "revocations_after_backup,schema_version,scratch_database,scratch_dir,"
            "scratch_server,source,tables,verdict");
  EXPECT_EQ(d["format"], "custom");
  EXPECT_EQ(d["migrations_applied"], nlohmann::json::array());
  EXPECT_EQ(d["dump_schema_version"], d["schema_version"]);
  EXPECT_EQ(d["missing_tables"], nlohmann::json::array());
  EXPECT_EQ(d["foreign_key_violations"], 0);
  EXPECT_EQ(d["encryption_key"], "opens");
  EXPECT_EQ(d["audit"]["intact"], true);
  EXPECT_GT(d["audit"]["rows"].get<int64_t>(), 0);
  bool counted = false;
  for (const auto& t : d["tables"]) {
    if (t["name"] != "certificates") continue;
    counted = true;
    EXPECT_EQ(t["rows"], 4);
    EXPECT_EQ(t["live_rows"], 4);
  }
  EXPECT_TRUE(counted) << d["tables"];
  ASSERT_EQ(d["key_files"].size(), 2u) << d["key_files"];  // the CA's, the responder's
  for (const auto& k : d["key_files"]) EXPECT_EQ(k["ok"], true) << k;
  std::vector<std::string> phases;
  for (const auto& p : d["phases"]) {
    phases.push_back(p["name"]);
    EXPECT_EQ(p["outcome"], "ok") << p;
    EXPECT_GE(p["duration_ms"].get<int64_t>(), 0);
  }
  EXPECT_EQ(phases, (std::vector<std::string>{"prepare", "restore", "migrate", "schema",
                                              "data", "material", "live", "cleanup"}));

  // The scratch database is gone, and the live database and every file are
  // as they were: the one change is the audit event that records the check
  // (and the anchor file that follows the audit log's head).
  EXPECT_EQ(ScratchDatabases(), "");
  auto after = Snapshot();
  for (auto* snapshot : {&before, &after}) {
    snapshot->erase("table audit_events");
    snapshot->erase("file " + config_.audit_anchor_file);
  }
  EXPECT_EQ(before, after);
  EXPECT_EQ(testing::Sql(url_,
                         "SELECT string_agg(action || ':' || outcome, ',') FROM "
                         "audit_events WHERE id > " +
                             events_before),
            "db.restore-check:succeeded");
  auto verify = Admin({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.Both();

  auto text = Admin({"db", "restore-check", "--dump", dump}, Secrets());
  EXPECT_EQ(text.exit_code, 0) << text.Both();
  for (const char* part : {"verdict: usable", "schema in the dump", "certificates",
                           "ocsp-responder", "PHASE", "dropped the scratch database"}) {
    EXPECT_NE(text.out.find(part), std::string::npos) << part << "\n" << text.out;
  }
}

TEST_F(RestoreCheckTest, EveryDumpFormatAndADatabaseAreRestored) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  for (const auto& [format, name] : std::vector<std::pair<std::string, std::string>>{
           {"d", "dir"}, {"t", "dump.tar"}, {"p", "dump.sql"}}) {
    auto run = Check({"--dump", Dump(format, name)});
    EXPECT_EQ(run.exit_code, 0) << name << run.Both();
    EXPECT_EQ(run.json["data"]["verdict"], "usable") << name << run.out;
  }
  auto from_db = Check({"--from-database", url_});
  EXPECT_EQ(from_db.exit_code, 0) << from_db.Both();
  EXPECT_EQ(from_db.json["data"]["verdict"], "usable") << from_db.out;
  EXPECT_EQ(ScratchDatabases(), "");
}

TEST_F(RestoreCheckTest, TheWrongEncryptionKeyMakesItUnusableAndSaysWhy) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  auto run = Check({"--dump", dump}, {"CERTCTL_CONFIG_ENCRYPTION_KEY=not-the-key"});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  EXPECT_EQ(run.json["data"]["verdict"], "unusable");
  EXPECT_EQ(run.json["data"]["encryption_key"], "wrong-key");
  EXPECT_EQ(Codes(run.json), std::vector<std::string>{"restore.encryption_key_wrong"});
  EXPECT_NE(Message(run.json, "restore.encryption_key_wrong")
                .find("CERTCTL_CONFIG_ENCRYPTION_KEY does not open"),
            std::string::npos);
  EXPECT_EQ(run.json["data"]["reasons"][0],
            Message(run.json, "restore.encryption_key_wrong"));

  auto none = Check({"--dump", dump}, {"CERTCTL_CONFIG_ENCRYPTION_KEY="});
  EXPECT_EQ(none.exit_code, 1) << none.Both();
  EXPECT_EQ(none.json["data"]["encryption_key"], "no-key");
  EXPECT_TRUE(HasCode(none.json, "restore.encryption_key_missing")) << none.out;

  auto text = Admin({"db", "restore-check", "--dump", dump},
                    {"CERTCTL_CONFIG_ENCRYPTION_KEY=not-the-key"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("verdict: unusable"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("is not the key this database was set up with"),
            std::string::npos)
      << text.out;
  EXPECT_EQ(ScratchDatabases(), "");
  // Three unusable verdicts (exit 1), audited as failed checks: `dr check`
  // counts none of them as a restore check done.
  EXPECT_EQ(AuditOutcomes("db.restore-check"), "failed,failed,failed");
}

TEST_F(RestoreCheckTest, AMissingResponderKeyFileIsNamed) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  std::string key = testing::Sql(url_, "SELECT key_path FROM ocsp_responder_certs");
  ASSERT_TRUE(std::filesystem::exists(key)) << key;
  std::filesystem::rename(key, *dumps_ / "moved-away.key");

  auto run = Check({"--dump", dump});
  EXPECT_EQ(run.exit_code, 0) << run.Both();  // certctld would replace the responder
  EXPECT_EQ(run.json["data"]["verdict"], "usable-with-warnings");
  EXPECT_EQ(Codes(run.json), std::vector<std::string>{"restore.responder_key_file"});
  EXPECT_NE(Message(run.json, "restore.responder_key_file").find(key + ": missing"),
            std::string::npos)
      << run.out;
  bool listed = false;
  for (const auto& k : run.json["data"]["key_files"]) {
    if (k["path"] != key) continue;
    listed = true;
    EXPECT_EQ(k["role"], "ocsp-responder");
    EXPECT_EQ(k["ok"], false);
    EXPECT_EQ(k["problem"], "missing");
  }
  EXPECT_TRUE(listed) << run.out;
  EXPECT_FALSE(std::filesystem::exists(key)) << "a restore check must not write it";

  // The CA key is what signs: without it the restore is unusable.
  std::filesystem::rename(ca_key_path_, *dumps_ / "ca-moved-away.key");
  auto no_ca = Check({"--dump", dump});
  EXPECT_EQ(no_ca.exit_code, 1) << no_ca.Both();
  EXPECT_TRUE(HasCode(no_ca.json, "restore.ca_key")) << no_ca.out;
  EXPECT_TRUE(HasCode(no_ca.json, "restore.ca_key_file")) << no_ca.out;
  EXPECT_NE(Message(no_ca.json, "restore.ca_key_file").find(ca_key_path_),
            std::string::npos);
}

TEST_F(RestoreCheckTest, ADumpOfAnOlderSchemaListsTheMigrationsItApplied) {
  // A database migrated only to schema 4, with the local CA registered by
  // hand as certctl did then.
  std::string name = testing::TestCluster::Get().CreateEmptyDatabase();
  std::string old_url = testing::TestCluster::Get().Url(name);
  {
    auto old_db = Database::Open({.url = old_url, .pool_size = 1});
    ASSERT_TRUE(old_db.ok()) << old_db.status().ToString();
    std::vector<Migration> first(EmbeddedMigrations().begin(),
                                 EmbeddedMigrations().begin() + 4);
    ASSERT_TRUE(Migrate(**old_db, first).ok());
  }
  std::string cert = testing::Sql(url_, "SELECT cert_pem FROM ca_generations");
  std::string fingerprint = testing::Sql(url_, "SELECT cert_sha256 FROM ca_generations");
  ASSERT_TRUE(testing::TrySql(old_url,
                              "INSERT INTO issuers (id, display_name) VALUES "
                              "('iss-local', 'Local CA')")
                  .ok());
  ASSERT_TRUE(testing::TrySql(
                  old_url,
                  "INSERT INTO ca_generations (issuer_id, generation, state, cert_pem, "
                  "cert_sha256, key_path, subject, not_before, not_after) SELECT "
                  "'iss-local', 1, 'active', $$" +
                      cert + "$$, '" + fingerprint + "', '" + ca_key_path_ +
                      "', 'CN=test', now(), now() + interval '1 year'")
                  .ok());
  std::string dump = Dump("c", "old.dump", old_url);
  (void)testing::TestCluster::Get().cluster().DropDatabase(name);

  auto run = Check({"--dump", dump});
  ASSERT_FALSE(run.json.is_discarded()) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["dump_schema_version"], 4) << run.out;
  EXPECT_EQ(d["schema_version"], EmbeddedMigrations().back().version);
  std::vector<std::string> expected, applied;
  for (const auto& m : EmbeddedMigrations()) {
    if (m.version > 4) expected.push_back(m.name);
  }
  for (const auto& m : d["migrations_applied"]) applied.push_back(m["name"]);
  EXPECT_EQ(applied, expected);
  EXPECT_EQ(d["missing_tables"], nlohmann::json::array());
  // No key-check value then: the key cannot be checked, which is a warning.
  EXPECT_EQ(d["encryption_key"], "no-check-value");
  EXPECT_EQ(d["verdict"], "usable-with-warnings") << run.out;
  EXPECT_EQ(run.exit_code, 0);
}

TEST_F(RestoreCheckTest, ASchemaThatDiffersIsNamed) {
  // An applied migration whose recorded checksum is not this binary's.
  std::string changed = testing::TestCluster::Get().CreateMigratedDatabase();
  std::string changed_url = testing::TestCluster::Get().Url(changed);
  ASSERT_TRUE(testing::TrySql(changed_url,
                              "UPDATE schema_migrations SET checksum = repeat('0', 64) "
                              "WHERE version = 2")
                  .ok());
  std::string changed_dump = Dump("c", "changed.dump", changed_url);
  auto run = Check({"--dump", changed_dump});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  EXPECT_EQ(run.json["data"]["verdict"], "unusable");
  EXPECT_TRUE(HasCode(run.json, "restore.schema_mismatch")) << run.out;
  EXPECT_NE(Message(run.json, "restore.schema_mismatch").find("0002_"), std::string::npos)
      << run.out;

  // A table gone and one that is not certctl's.
  std::string odd = testing::TestCluster::Get().CreateMigratedDatabase();
  std::string odd_url = testing::TestCluster::Get().Url(odd);
  ASSERT_TRUE(testing::TrySql(odd_url, "DROP TABLE ca_rotation_steps").ok());
  ASSERT_TRUE(testing::TrySql(odd_url, "CREATE TABLE site_notes (note text)").ok());
  std::string odd_dump = Dump("c", "odd.dump", odd_url);
  auto odd_run = Check({"--dump", odd_dump});
  EXPECT_EQ(odd_run.exit_code, 1) << odd_run.Both();
  EXPECT_EQ(odd_run.json["data"]["missing_tables"],
            nlohmann::json::array({"ca_rotation_steps"}));
  EXPECT_EQ(odd_run.json["data"]["extra_tables"], nlohmann::json::array({"site_notes"}));
  EXPECT_TRUE(HasCode(odd_run.json, "restore.tables_missing"));
  EXPECT_TRUE(HasCode(odd_run.json, "restore.tables_extra"));
  for (const auto& name : {changed, odd}) {
    (void)testing::TestCluster::Get().cluster().DropDatabase(name);
  }
  EXPECT_EQ(ScratchDatabases(), "");
}

TEST_F(RestoreCheckTest, ATruncatedDumpIsAClearError) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  auto bytes = ReadFile(dump);
  ASSERT_TRUE(bytes.ok());
  std::string cut = *dumps_ / "cut.dump";
  ASSERT_TRUE(WriteFileAtomic(cut, bytes->substr(0, bytes->size() / 2)).ok());
  auto run = Check({"--dump", cut});
  EXPECT_EQ(run.exit_code, 1) << run.Both();
  EXPECT_EQ(run.json["data"]["verdict"], "unusable");
  EXPECT_EQ(Codes(run.json), std::vector<std::string>{"restore.failed"});
  std::string message = Message(run.json, "restore.failed");
  EXPECT_NE(message.find("could not be restored"), std::string::npos) << message;
  EXPECT_NE(message.find("pg_restore"), std::string::npos) << message;
  EXPECT_EQ(run.json["data"]["phases"][2]["outcome"], "skipped");
  EXPECT_EQ(ScratchDatabases(), "");

  std::string plain = Dump("p", "dump.sql");
  auto text = ReadFile(plain);
  ASSERT_TRUE(text.ok());
  std::string cut_plain = *dumps_ / "cut.sql";
  ASSERT_TRUE(WriteFileAtomic(cut_plain, text->substr(0, text->size() * 2 / 3)).ok());
  auto plain_run = Check({"--dump", cut_plain});
  EXPECT_EQ(plain_run.exit_code, 1) << plain_run.Both();
  EXPECT_NE(Message(plain_run.json, "restore.dump_unusable").find("truncated"),
            std::string::npos)
      << plain_run.out;

  // Not a dump at all, or not there: usage errors, nothing created.
  std::string junk = *dumps_ / "junk.dump";
  ASSERT_TRUE(WriteFileAtomic(junk, "this is not a dump\n").ok());
  auto junk_run = Check({"--dump", junk});
  EXPECT_EQ(junk_run.exit_code, 2) << junk_run.Both();
  EXPECT_NE(ErrorMessage(junk_run).find("not a pg_dump archive"), std::string::npos)
      << junk_run.out;
  EXPECT_EQ(Check({"--dump", *dumps_ / "missing.dump"}).exit_code, 2);
  EXPECT_EQ(ScratchDatabases(), "");
}

TEST_F(RestoreCheckTest, APlainDumpThatConnectsElsewhereIsRefused) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string plain = Dump("p", "dump.sql");
  auto text = ReadFile(plain);
  ASSERT_TRUE(text.ok());
  std::string evil = *dumps_ / "evil.sql";
  std::string body = *text;
  body.insert(body.find("SET statement_timeout"), "\\connect " + db_name_ + "\n");
  ASSERT_TRUE(WriteFileAtomic(evil, body).ok());
  auto before = Snapshot();
  auto run = Check({"--dump", evil});
  EXPECT_EQ(run.exit_code, 2) << run.Both();
  EXPECT_NE(ErrorMessage(run).find("\\connect"), std::string::npos) << run.out;
  EXPECT_EQ(before, Snapshot());
}

TEST_F(RestoreCheckTest, RevocationsAndCrlNumbersAfterTheBackupAreListed) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  Revoke(serials_[1], "keyCompromise");
  Revoke(serials_[2], "superseded");
  auto ctx = Context();
  ops::OpReport crl;
  ASSERT_TRUE(
      ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());

  auto run = Check({"--dump", dump});
  EXPECT_EQ(run.exit_code, 0) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["verdict"], "usable-with-warnings");
  std::map<std::string, std::string> lost;
  for (const auto& r : d["revocations_after_backup"]) lost[r["serial"]] = r["reason"];
  EXPECT_EQ(lost, (std::map<std::string, std::string>{{serials_[1], "keyCompromise"},
                                                      {serials_[2], "superseded"}}));
  ASSERT_EQ(d["reused_crl_numbers"].size(), 1u) << run.out;
  const auto& reused = d["reused_crl_numbers"][0];
  EXPECT_EQ(reused["live_highest"].get<int64_t>(),
            std::stoll(testing::Sql(url_, "SELECT max(last_number) FROM crl_numbers")));
  EXPECT_LT(reused["dump_highest"].get<int64_t>(), reused["live_highest"].get<int64_t>());
  EXPECT_TRUE(HasCode(run.json, "restore.revocations_after_backup"));
  EXPECT_TRUE(HasCode(run.json, "restore.crl_numbers_reused"));
  EXPECT_NE(Message(run.json, "restore.revocations_after_backup").find(serials_[1]),
            std::string::npos);
}

TEST_F(RestoreCheckTest, KeepLeavesTheScratchDatabaseAndTheLiveOneIsRefused) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  auto kept = Check({"--dump", dump, "--keep"});
  EXPECT_EQ(kept.exit_code, 0) << kept.Both();
  std::string name = kept.json["data"]["scratch_database"];
  EXPECT_EQ(kept.json["data"]["kept"], true);
  EXPECT_EQ(ScratchDatabases(), name);
  std::string scratch_url = testing::TestCluster::Get().Url(name);
  EXPECT_EQ(testing::Sql(scratch_url, "SELECT count(*) FROM certificates"), "4");
  std::string dir = kept.json["data"]["scratch_dir"];
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  std::filesystem::remove_all(dir);

  // A database that exists, the kept one or the live one, is never restored into.
  auto exists = Check({"--dump", dump, "--scratch-url", scratch_url});
  EXPECT_EQ(exists.exit_code, 2) << exists.Both();
  auto live = Check({"--dump", dump, "--scratch-url", url_});
  EXPECT_EQ(live.exit_code, 2) << live.Both();
  EXPECT_NE(ErrorMessage(live).find("names the live database"), std::string::npos)
      << live.out;
  EXPECT_TRUE(testing::TestCluster::Get().cluster().DropDatabase(name).ok());
  EXPECT_EQ(ScratchDatabases(), "");

  // Neither or both sources: usage.
  EXPECT_EQ(Check({}).exit_code, 2);
  EXPECT_EQ(Check({"--dump", dump, "--from-database", url_}).exit_code, 2);
}

// --compare-live on a host whose database is not production's (a staging
// copy restored from the same backup): the live database says nothing new,
// and the CRL that production's certctld serves at the URL in the dump's
// certificates names the revocations and the CRL number made after the
// backup.
TEST_F(RestoreCheckTest, CompareLiveListsWhatThePublishedCrlSaysTheDumpLacks) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  config_.base_url = daemon->pki;  // the CRL URL the certificates carry
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  Revoke(serials_[1], "keyCompromise");
  Revoke(serials_[2], "superseded");
  auto ctx = Context();
  ops::OpReport crl;
  ASSERT_TRUE(
      ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl).ok());
  // What production publishes now, read as an operator would.
  std::string crl_url = daemon->pki + "/.well-known/pki/crl/iss-local/1";
  std::string crl_file = dumps_->path() + "/published.crl";
  std::string published;
  ASSERT_TRUE(testing::Eventually([&] {
    auto got = RunProcess({"curl", "-sf", "-o", crl_file, crl_url});
    if (!got.ok() || got->exit_code != 0) return false;
    auto text = RunProcess(
        {"openssl", "crl", "-inform", "DER", "-in", crl_file, "-noout", "-text"});
    if (!text.ok() || text->exit_code != 0) return false;
    published = text->output;
    std::string upper1 = serials_[1], upper2 = serials_[2];
    for (auto* u : {&upper1, &upper2}) {
      for (auto& c : *u) c = static_cast<char>(std::toupper(c));
    }
    return published.find(upper1) != std::string::npos &&
           published.find(upper2) != std::string::npos;
  })) << published;
  auto number = RunProcess(
      {"openssl", "crl", "-inform", "DER", "-in", crl_file, "-noout", "-crlnumber"});
  ASSERT_TRUE(number.ok() && number->exit_code == 0);
  // "crlNumber=0x1B" -> 27
  int64_t published_number =
      std::stoll(number->output.substr(number->output.find('=') + 1), nullptr, 16);

  // The staging host: its database is the dump restored, so only the CRL
  // can tell what happened after the backup.
  auto& cluster = testing::TestCluster::Get();
  std::string staging = cluster.CreateEmptyDatabase();
  auto restored = RunProcess({PgProgram("pg_restore"), "--no-owner", "--exit-on-error",
                              "--dbname=" + cluster.Url(staging), dump});
  ASSERT_TRUE(restored.ok() && restored->exit_code == 0)
      << (restored.ok() ? restored->output : "");
  std::vector<std::string> on_staging = {"CERTCTL_DATABASE_URL=" + cluster.Url(staging)};

  auto without = Check({"--dump", dump}, on_staging);
  EXPECT_EQ(without.exit_code, 0) << without.Both();
  EXPECT_EQ(without.json["data"]["revocations_after_backup"], nlohmann::json::array());
  EXPECT_EQ(without.json["data"]["reused_crl_numbers"], nlohmann::json::array());

  auto run = Check({"--dump", dump, "--compare-live"}, on_staging);
  EXPECT_EQ(run.exit_code, 0) << run.Both();
  const auto& d = run.json["data"];
  EXPECT_EQ(d["verdict"], "usable-with-warnings") << run.out;
  std::map<std::string, std::string> lost;
  for (const auto& r : d["revocations_after_backup"]) {
    lost[r["serial"]] = r["reason"];
    EXPECT_EQ(r["seen_in"], crl_url) << r;
  }
  EXPECT_EQ(lost, (std::map<std::string, std::string>{{serials_[1], "keyCompromise"},
                                                      {serials_[2], "superseded"}}))
      << run.out;
  ASSERT_EQ(d["reused_crl_numbers"].size(), 1u) << run.out;
  const auto& reused = d["reused_crl_numbers"][0];
  EXPECT_EQ(reused["seen_in"], crl_url);
  EXPECT_EQ(reused["live_highest"].get<int64_t>(), published_number);
  EXPECT_LT(reused["dump_highest"].get<int64_t>(), published_number);
  EXPECT_TRUE(HasCode(run.json, "restore.revocations_after_backup"));
  EXPECT_TRUE(HasCode(run.json, "restore.crl_numbers_reused"));
  EXPECT_TRUE(cluster.cluster().DropDatabase(staging).ok());
}

// SIGTERM mid-check: the scratch database and directory are dropped before
// the process ends of the signal, and no check is recorded as succeeded.
TEST_F(RestoreCheckTest, SigtermMidCheckDropsTheScratchDatabase) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::string dump = Dump("c", "certctl.dump");
  testing::TempDir tmp;
  auto env = Environment();
  for (const auto& e : Secrets())
    env[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
  env["TMPDIR"] = tmp.path();
  e2e::BackgroundProcess admin({CERTCTL_ADMIN_PATH, "--config", empty_config_, "-o",
                                "json", "db", "restore-check", "--dump", dump},
                               env, dumps_->path() + "/admin.log");
  ASSERT_TRUE(admin.Start().ok());
  ASSERT_TRUE(testing::Eventually([&] { return !ScratchDatabases().empty(); }))
      << admin.Log();
  admin.Signal(SIGTERM);
  EXPECT_EQ(admin.Wait(std::chrono::seconds(60)), 128 + SIGTERM) << admin.Log();
  EXPECT_EQ(ScratchDatabases(), "");
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));
  EXPECT_NE(admin.Log().find("interrupted by SIGTERM"), std::string::npos) << admin.Log();
  EXPECT_EQ(AuditOutcomes("db.restore-check"), "");
}

}  // namespace
}  // namespace certctl
