// `certctl-admin ca rotate` killed with SIGKILL after each step of its
// journal in turn, while a certctld keeps serving: after every kill the
// unfinished rotation is reported; --abort brings the previous generation
// back, and a rotation killed at the same step again is finished by
// --resume. Throughout, no key file is lost, overwritten or left with a mode
// other than 0600, and every generation that issued a certificate has its key.
#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <sstream>

#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "e2e/crash_fixture.h"
#include "support/pg_harness.h"

namespace certctl::testing {
namespace {

namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string Upper(std::string hex) {
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

e2e::Output Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  return e2e::Exec(args);
}

// The step a fail point follows, and the state it leaves that step in.
std::pair<std::string, std::string> StepOf(const std::string& point) {
  static const std::map<std::string, std::pair<std::string, std::string>> steps = {
      {"rotate.backed-up", {"backup", "done"}},
      {"rotate.key-temp-written", {"write-key", "interrupted"}},
      {"rotate.key-written", {"write-key", "done"}},
      {"rotate.signed-imported", {"import-signed", "done"}},
      {"rotate.generation-registered", {"register-generation", "done"}},
      {"rotate.responder-bootstrapped", {"bootstrap-responder", "done"}},
      {"rotate.crl-signed", {"sign-crl", "done"}},
      {"rotate.issuance-switched", {"switch-issuance", "done"}},
      {"rotate.daemons-notified", {"notify-daemons", "done"}},
      {"rotate.verified", {"verify", "done"}},
  };
  return steps.at(point);
}

class CrashRotateTest : public CrashTest {
 protected:
  void SetUp() override {
    CrashTest::SetUp();
    if (HasFatalFailure()) return;
    daemon_ = StartDaemon();
    ASSERT_NE(daemon_, nullptr);
  }

  std::vector<std::string> Rotate(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"ca",      "rotate", "iss-local", "--backup-dir",
                                     Backups(), "--yes",  "--wait",    "20s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string Backups() const { return *dir_ / "backups"; }

  // Every key file a rotation or a responder writes or keeps (the CA key
  // directory, the responder key directory, the backups): path -> "mode sha".
  std::map<std::string, std::string> AllKeyFiles() {
    std::map<std::string, std::string> out;
    auto add = [&](const fs::path& p) {
      std::string name = p.filename().string();
      bool key = Has(name, ".key") || TempFileTarget(name).has_value();
      if (!key || !fs::is_regular_file(p)) return;
      auto mode = FileMode(p);
      auto content = ReadFile(p);
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", mode.ok() ? *mode : 07777);
      out[p.string()] =
          std::string(octal) + " " + (content.ok() ? Sha256Hex(*content) : "unreadable");
    };
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_->path(), ec)) add(e.path());
    for (const auto& e : fs::directory_iterator(KeyDir(), ec)) add(e.path());
    for (const auto& e : fs::recursive_directory_iterator(Backups(), ec)) add(e.path());
    return out;
  }

  // No key file is lost or overwritten, and every one is 0600.
  void ExpectKeysKept(const std::map<std::string, std::string>& before) {
    auto after = AllKeyFiles();
    for (const auto& [path, v] : after) EXPECT_EQ(v.substr(0, 4), "0600") << path;
    for (const auto& [path, v] : before) {
      if (TempFileTarget(fs::path(path).filename().string())) continue;
      auto same = after.find(path);
      ASSERT_NE(same, after.end()) << path << " is gone";
      EXPECT_EQ(same->second, v) << path << " was overwritten";
    }
  }

  // The CA certificate of a generation, written to a file for openssl.
  std::string CaFile(int generation) {
    std::string path = *dir_ / ("ca-g" + std::to_string(generation) + "-db.pem");
    EXPECT_TRUE(WriteFileAtomic(path,
                                Sql(url_,
                                    "SELECT cert_pem FROM ca_generations WHERE "
                                    "generation = " +
                                        std::to_string(generation)),
                                {.mode = 0644, .keep_backup = false})
                    .ok());
    return path;
  }

  // Every generation that issued a certificate, and the active one, has its
  // key in the file its row names (openssl: the key's public half is the
  // certificate's).
  void ExpectIssuersHaveKeys() {
    std::string gens = Sql(url_,
                           "SELECT string_agg(DISTINCT generation::text, ',') FROM "
                           "(SELECT generation FROM certificates UNION SELECT generation "
                           "FROM ca_generations WHERE state = 'active') g");
    std::stringstream in(gens);
    for (std::string g; std::getline(in, g, ',');) {
      std::string key =
          Sql(url_, "SELECT key_path FROM ca_generations WHERE generation = " + g);
      auto from_key = Openssl({"pkey", "-in", key, "-pubout"});
      auto from_cert =
          Openssl({"x509", "-in", CaFile(std::stoi(g)), "-noout", "-pubkey"});
      EXPECT_EQ(from_key.exit_code, 0) << "generation " << g << ": " << from_key.text;
      EXPECT_EQ(from_key.text, from_cert.text) << "generation " << g << "'s key " << key;
    }
  }

  int Active() {
    return std::stoi(
        Sql(url_, "SELECT generation FROM ca_generations WHERE state = 'active'"));
  }

  // What every `ca` command reports: the rotation is unfinished, stopped
  // after the fail point's step (`ca status`: an error finding, exit 1; `ca
  // rotate --resume --dry-run`: the journal step by step).
  void ExpectUnfinishedReported(const std::string& point) {
    auto status = Admin({"-o", "json", "ca", "status", "iss-local"});
    EXPECT_EQ(status.exit_code, 1) << status.Both();
    const auto& unfinished = status.json["data"]["issuers"][0]["unfinished_rotation"];
    EXPECT_FALSE(unfinished.is_null()) << status.out;
    bool finding = false;
    for (const auto& f : status.json["findings"]) {
      finding |= f["code"] == "ca.rotation_unfinished" &&
                 Has(f["message"].get<std::string>(), "--resume");
    }
    EXPECT_TRUE(finding) << status.out;
    auto seen =
        Admin({"-o", "json", "ca", "rotate", "iss-local", "--resume", "--dry-run"});
    ASSERT_EQ(seen.exit_code, 0) << seen.Both();
    const auto& data = seen.json["data"];
    EXPECT_EQ(data["state"], "running") << seen.out;
    auto [step, state] = StepOf(point);
    bool found = false;
    for (const auto& s : data["steps"]) {
      if (s["name"] == step) {
        found = true;
        EXPECT_EQ(s["state"], state) << seen.out;
      }
    }
    EXPECT_TRUE(found) << step;
    EXPECT_TRUE(Has(data["next"].get<std::string>(), "--resume")) << seen.out;
  }

  // certctld serves what every generation issued and issues with the active
  // one: OCSP for generation 1's certificates verified against its CA, each
  // CRL verified against its own CA, the generation-less CRL the active one.
  void ExpectServing() {
    int active = Active();
    EXPECT_EQ(Issue("check.example").generation, active);
    OcspAnswer now = Ask(*daemon_, {good_crt_, revoked_crt_}, /*nonce=*/true);
    EXPECT_EQ(now.status[good_crt_], "good") << now.text;
    EXPECT_EQ(now.status[revoked_crt_], "revoked") << now.text;
    EXPECT_TRUE(now.verified) << now.text;
    auto crl_verifies = [&](const std::string& path, int generation) {
      std::string der = *dir_ / "served.der";
      auto got = e2e::Exec({"curl", "-sf", "-o", der, daemon_->pki + path});
      if (got.exit_code != 0) return false;
      auto text = Openssl({"crl", "-inform", "DER", "-in", der, "-CAfile",
                           CaFile(generation), "-noout", "-text"});
      return text.exit_code == 0 && Has(text.text, "verify OK") &&
             (generation != 1 || Has(text.text, Upper(revoked_serial_)));
    };
    EXPECT_TRUE(crl_verifies("/.well-known/pki/crl/iss-local/1", 1));
    EXPECT_TRUE(Eventually([&] {
      return crl_verifies("/.well-known/pki/crl/iss-local", active);
    })) << "the generation-less CRL is not generation "
        << active << "'s";
  }

  std::unique_ptr<RunningDaemon> daemon_;
};

TEST_F(CrashRotateTest, KilledAfterEveryStepIsAbortedOrResumed) {
  std::vector<std::string> points;
  for (const auto& p : FailPointsOf("rotate.")) {
    if (p != "rotate.signed-imported") points.push_back(p);  // sub-CA: below
  }
  ASSERT_EQ(points.size(), 9u);
  for (const auto& point : points) {
    SCOPED_TRACE(point);
    int previous = Active();
    // Killed, then aborted: the previous generation is back.
    auto before = AllKeyFiles();
    auto killed = AdminArmed(Rotate(), point);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.Both();
    EXPECT_TRUE(Has(killed.err, "fail point " + point + ": crash")) << killed.err;
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectUnfinishedReported(point);
    auto aborted = Admin({"ca", "rotate", "iss-local", "--abort", "--yes"});
    ASSERT_EQ(aborted.exit_code, 0) << aborted.Both();
    EXPECT_EQ(Active(), previous);
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectServing();

    // Killed at the same step of a fresh rotation, then resumed.
    before = AllKeyFiles();
    killed = AdminArmed(Rotate(), point);
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.Both();
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectUnfinishedReported(point);
    auto resumed =
        Admin({"-o", "json", "ca", "rotate", "iss-local", "--resume", "--yes"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.Both();
    EXPECT_EQ(resumed.json["data"]["state"], "completed");
    int rotated = resumed.json["data"]["to_generation"].get<int>();
    EXPECT_EQ(Active(), rotated);
    EXPECT_GT(rotated, previous);
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectServing();
  }
  // Nothing of an interrupted key write is left where certctl looks.
  for (const auto& [path, v] : AllKeyFiles()) {
    if (TempFileTarget(fs::path(path).filename().string())) {
      ADD_FAILURE() << "temporary file left: " << path;
    }
  }
}

// Sub-CA mode, killed once its signed certificate is written: the same.
TEST_F(CrashRotateTest, SubCaKilledAfterImportingItsCertificate) {
  std::string root_key = *dir_ / "root.key", root_crt = *dir_ / "root.crt";
  ASSERT_EQ(Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-keyout", root_key, "-out",
                     root_crt, "-subj", "/CN=Offline Root", "-days", "7300", "-addext",
                     "basicConstraints=critical,CA:TRUE", "-addext",
                     "keyUsage=critical,keyCertSign,cRLSign"})
                .exit_code,
            0);
  std::string ext = *dir_ / "ca.ext";
  ASSERT_TRUE(WriteFileAtomic(ext,
                              "basicConstraints=critical,CA:TRUE\n"
                              "keyUsage=critical,keyCertSign,cRLSign\n",
                              {.mode = 0644})
                  .ok());
  for (std::string finish : {"--abort", "--resume"}) {
    SCOPED_TRACE(finish);
    int previous = Active();
    std::string csr = *dir_ / ("sub" + finish + ".csr");
    std::string crt = *dir_ / ("sub" + finish + ".crt");
    auto first = Admin(Rotate({"--csr-out", csr}));
    ASSERT_EQ(first.exit_code, 0) << first.Both();
    ASSERT_EQ(Openssl({"x509", "-req", "-in", csr, "-CA", root_crt, "-CAkey", root_key,
                       "-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", crt})
                  .exit_code,
              0);
    auto before = AllKeyFiles();
    auto killed = AdminArmed({"ca", "rotate", "iss-local", "--import-signed", crt,
                              "--chain", root_crt, "--yes"},
                             "rotate.signed-imported");
    ASSERT_EQ(killed.exit_code, 128 + SIGKILL) << killed.Both();
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectUnfinishedReported("rotate.signed-imported");
    auto finished = Admin({"ca", "rotate", "iss-local", finish, "--yes"});
    ASSERT_EQ(finished.exit_code, 0) << finished.Both();
    EXPECT_EQ(Active() == previous, finish == "--abort");
    ExpectKeysKept(before);
    ExpectIssuersHaveKeys();
    ExpectServing();
  }
}

// PostgreSQL goes away in the middle of a rotation (stopped while the
// rotation is paused after a step): the rotation fails as "unavailable"
// (exit 69) and stays unfinished; once the database is back it is reported
// and --resume finishes it.
TEST_F(CrashRotateTest, DatabaseGoneMidRotationIsResumedAfterwards) {
  auto before = AllKeyFiles();
  auto rotation =
      StartAdmin(Rotate(), "rotate.generation-registered=pause", *dir_ / "paused.log");
  ASSERT_TRUE(WaitStopped(rotation->pid())) << rotation->Log();
  ASSERT_TRUE(TestCluster::Get().Stop().ok());
  rotation->Signal(SIGCONT);
  int code = rotation->Wait(std::chrono::seconds(120));
  ASSERT_TRUE(TestCluster::Get().Start().ok());
  EXPECT_EQ(code, 69) << rotation->Log();
  EXPECT_TRUE(Has(rotation->Log(), "--resume")) << rotation->Log();
  ExpectKeysKept(before);
  ExpectIssuersHaveKeys();
  ExpectUnfinishedReported("rotate.generation-registered");
  EXPECT_EQ(Active(), 1);
  auto resumed = Admin({"ca", "rotate", "iss-local", "--resume", "--yes"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Both();
  EXPECT_EQ(Active(), 2);
  ExpectKeysKept(before);
  ExpectServing();
}

// Two `ca rotate` at once: one holds the issuer's CA lock (stopped after its
// backup), the other exits 75 naming it and changes nothing; the first then
// finishes.
TEST_F(CrashRotateTest, TwoConcurrentRotationsOneProceedsTheOtherExits75) {
  auto first = StartAdmin(Rotate(), "rotate.backed-up=pause", *dir_ / "first.log");
  ASSERT_TRUE(WaitStopped(first->pid())) << first->Log();
  auto second = Admin({"ca", "rotate", "iss-local", "--backup-dir", Backups(), "--yes"});
  EXPECT_EQ(second.exit_code, 75) << second.Both();
  EXPECT_TRUE(Has(second.err, "certctl-admin ca.rotate")) << second.err;
  EXPECT_TRUE(Has(second.err, "pid " + std::to_string(first->pid()))) << second.err;
  EXPECT_EQ(Sql(url_, "SELECT count(*) FROM ca_rotations"), "1");
  first->Signal(SIGCONT);
  EXPECT_EQ(first->Wait(std::chrono::seconds(120)), 0) << first->Log();
  EXPECT_EQ(Sql(url_, "SELECT state FROM ca_rotations"), "completed");
  EXPECT_EQ(Active(), 2);
}

}  // namespace
}  // namespace certctl::testing
