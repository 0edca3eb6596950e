// Names completed at run time (issue 12): issuer ids, trust bundle names,
// audit actions and held locks, listed by the hidden `__complete` and used
// by the bash, zsh and fish completions; nothing at all without a database.
#include <gtest/gtest.h>

#include <filesystem>

#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

class CompletionTest : public testing::AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    if (HasFatalFailure()) return;
    config_file_ = *dir_ / "with-trust.yaml";
    ASSERT_TRUE(WriteFileAtomic(
                    config_file_,
                    "trust_anchors:\n  - name: est-clients\n    path: " + ca_cert_path_ +
                        "\n  - name: scep\n    path: " + ca_cert_path_ + "\n",
                    {.mode = 0600})
                    .ok());
    testing::TempDir& scratch = *dir_;
    down_ = "CERTCTL_DATABASE_URL=host=" + (scratch / "no-such-socket-dir") +
            " dbname=certctl";
  }
  // The process environment of the shells: the test's CERTCTL_* variables.
  ProcessOptions ShellEnv(const std::vector<std::string>& extra = {}) {
    ProcessOptions options;
    for (const auto& [k, v] : Environment()) options.extra_env.push_back(k + "=" + v);
    for (const auto& e : extra) options.extra_env.push_back(e);
    return options;
  }
  // What bash completes for `line` (the cursor at its end).
  std::string Bash(const std::string& line, const std::vector<std::string>& env = {}) {
    std::string words = "(" + line + ")";
    if (!line.empty() && line.back() == ' ') words = "(" + line + "'')";
    auto r = RunProcess(
        {"bash", "-c",
         "source \"$0\"; COMP_WORDS=" + words +
             "; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _certctl_admin; "
             "((${#COMPREPLY[@]})) && printf '%s\\n' \"${COMPREPLY[@]}\" | sort | tr "
             "'\\n' ' '",
         std::string(CERTCTL_SOURCE_DIR) + "/completions/certctl-admin.bash"},
        ShellEnv(env));
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  }
  // fish finds completions by the command's name: certctl-admin on PATH.
  std::string Fish(const std::string& line) {
    std::string bin = std::filesystem::path(CERTCTL_ADMIN_PATH).parent_path();
    auto r = RunProcess(
        {"fish", "--no-config", "-c",
         "set -x PATH $argv[3] $PATH; source $argv[1]; complete -C "
         "$argv[2] | cut -f1 | sort | string join ' '",
         std::string(CERTCTL_SOURCE_DIR) + "/completions/certctl-admin.fish", line, bin},
        ShellEnv());
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  }
  std::string admin_ = CERTCTL_ADMIN_PATH;
  std::string config_file_;
  std::string down_;
};

TEST_F(CompletionTest, ListsNamesAndNothingWithoutADatabase) {
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  auto issuers = Admin({"__complete", "issuers"});
  EXPECT_EQ(issuers.exit_code, 0);
  EXPECT_EQ(issuers.out, "iss-local\n");
  auto actions = Admin({"__complete", "audit-actions"});
  EXPECT_EQ(actions.exit_code, 0);
  EXPECT_NE(actions.out.find("crl.regenerate\n"), std::string::npos) << actions.out;
  auto bundles = Admin({"--config", config_file_, "__complete", "trust-bundles"});
  EXPECT_EQ(bundles.out, "est-clients\nscep\n");
  auto lock = HoldLock("crl:iss-local");
  EXPECT_EQ(Admin({"__complete", "locks"}).out, "crl:iss-local\n");

  // No database (or no configuration): nothing, exit 0, nothing on stderr.
  for (const char* kind : {"issuers", "audit-actions", "locks"}) {
    auto down = Admin({"__complete", kind}, {down_});
    EXPECT_EQ(down.exit_code, 0) << kind << down.Both();
    EXPECT_EQ(down.out, "") << kind;
    EXPECT_EQ(down.err, "") << kind;
  }
  // Trust bundles come from the configuration alone.
  EXPECT_EQ(Admin({"--config", config_file_, "__complete", "trust-bundles"}, {down_}).out,
            "est-clients\nscep\n");
  auto no_config = Admin({"--config", *dir_ / "missing.yaml", "__complete", "issuers"});
  EXPECT_EQ(no_config.exit_code, 0);
  EXPECT_EQ(no_config.out + no_config.err, "");
  // Hidden, and a kind it does not know is a usage error.
  EXPECT_EQ(Admin({"--help"}).out.find("__complete"), std::string::npos);
  EXPECT_EQ(Admin({"__complete", "serials"}).exit_code, 2);
}

TEST_F(CompletionTest, BashCompletesNamesFromTheDatabase) {
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  EXPECT_EQ(Bash(admin_ + " ocsp status "), "iss-local ");
  EXPECT_EQ(Bash(admin_ + " crl status i"), "iss-local ");
  EXPECT_EQ(Bash(admin_ + " cache truncate --issuer "), "iss-local ");
  EXPECT_EQ(Bash(admin_ + " audit list --action crl.r"), "crl.regenerate ");
  // The configuration given on the command line is the one asked.
  EXPECT_EQ(Bash(admin_ + " --config " + config_file_ + " trust reload e"),
            "est-clients ");
  EXPECT_NE(Bash(admin_ + " --config " + config_file_ + " trust reload ")
                .find("est-clients scep"),
            std::string::npos);
  // Only the first argument is a name (then the options).
  EXPECT_EQ(Bash(admin_ + " ocsp check iss-local "), "--url ");
  EXPECT_NE(Bash(admin_ + " ocsp status --").find("--help"), std::string::npos);
  // No database: no names, no error.
  EXPECT_EQ(Bash(admin_ + " ocsp status ", {down_}), "");
}

TEST_F(CompletionTest, FishCompletesNamesFromTheDatabase) {
  ASSERT_EQ(Admin({"crl", "regenerate", "iss-local"}).exit_code, 0);
  EXPECT_EQ(Fish("certctl-admin ocsp status "), "iss-local\n");
  EXPECT_EQ(Fish("certctl-admin audit list --action crl.r"), "crl.regenerate\n");
  EXPECT_EQ(Fish("certctl-admin --config " + config_file_ + " trust reload "),
            "est-clients scep\n");
}

// zsh completes only in an interactive shell; its script is checked for the
// calls it makes (and parsed, with the others, in docs_test.cc).
TEST_F(CompletionTest, ZshAsksForTheSameNames) {
  auto zsh = ReadFile(std::string(CERTCTL_SOURCE_DIR) + "/completions/_certctl-admin");
  ASSERT_TRUE(zsh.ok());
  for (const char* call :
       {"':ISSUER:{_certctl-admin_names issuers}'",
        "{_certctl-admin_names trust-bundles}",
        ":value:{_certctl-admin_names audit-actions}'", "{_certctl-admin_names locks}"}) {
    EXPECT_NE(zsh->find(call), std::string::npos) << call;
  }
  EXPECT_NE(zsh->find("__complete $1"), std::string::npos);
}

}  // namespace
}  // namespace certctl
