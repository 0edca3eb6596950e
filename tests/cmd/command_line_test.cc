// What certctl-admin says about a command line it does not understand
// (issue 12): the word named, the nearest existing one suggested, exit 2,
// nothing changed; and `help COMMAND` as `COMMAND --help`.
#include <gtest/gtest.h>

#include "cmd/admin_fixture.h"

namespace certctl {
namespace {

class CommandLineTest : public testing::AdminTest {
 protected:
  // Runs `args` expecting a usage error that names `word` and, when
  // `suggestion` is set, suggests it; checks nothing was changed.
  void ExpectUnknown(const std::vector<std::string>& args, const std::string& word,
                     const std::string& suggestion) {
    auto before = Snapshot();
    auto run = Admin(args);
    std::string what =
        args.empty() ? "" : args[0] + (args.size() > 1 ? " " + args[1] : "");
    EXPECT_EQ(run.exit_code, 2) << what << run.Both();
    EXPECT_TRUE(run.out.empty()) << what << ": printed a help text?\n" << run.out;
    EXPECT_NE(run.err.find("\"" + word + "\""), std::string::npos)
        << what << ": does not name " << word << "\n"
        << run.err;
    if (suggestion.empty()) {
      EXPECT_EQ(run.err.find("did you mean"), std::string::npos) << run.err;
    } else {
      EXPECT_NE(run.err.find("did you mean " + suggestion), std::string::npos)
          << what << "\n"
          << run.err;
    }
    EXPECT_EQ(Snapshot(), before) << what;
  }
};

TEST_F(CommandLineTest, AnUnknownCommandIsNamedWithTheNearestOne) {
  ExpectUnknown({"cach", "verify"}, "cach", "`certctl-admin cache`");
  ExpectUnknown({"crl", "regenrate", "iss-local"}, "regenrate",
                "`certctl-admin crl regenerate`");
  ExpectUnknown({"ocsp", "staus", "iss-local"}, "staus", "`certctl-admin ocsp status`");
  // Nothing near: no guess, but the commands there are.
  ExpectUnknown({"db", "frobnicate"}, "frobnicate", "");
  auto listed = Admin({"db", "frobnicate"});
  EXPECT_NE(listed.err.find("migrate, status"), std::string::npos) << listed.err;
}

// It used to print db's help and exit 0: --help does not hide the unknown word.
TEST_F(CommandLineTest, HelpAfterAnUnknownCommandIsAnError) {
  ExpectUnknown({"db", "frobnicate", "--help"}, "frobnicate", "");
  ExpectUnknown({"crl", "regenrate", "--help"}, "regenrate",
                "`certctl-admin crl regenerate`");
}

TEST_F(CommandLineTest, AnUnknownOptionIsNamedWithTheNearestOne) {
  auto before = Snapshot();
  auto run = Admin({"crl", "regenerate", "iss-local", "--dryrun"});
  EXPECT_EQ(run.exit_code, 2) << run.Both();
  EXPECT_NE(run.err.find("unknown option --dryrun for `certctl-admin crl regenerate`"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("did you mean --dry-run?"), std::string::npos) << run.err;
  EXPECT_EQ(Snapshot(), before);
  // A global option is known after the command too; a value is not a word.
  auto global = Admin({"audit", "list", "--outptu", "json"});
  EXPECT_EQ(global.exit_code, 2) << global.Both();
  EXPECT_NE(global.err.find("did you mean --output?"), std::string::npos) << global.err;
  EXPECT_EQ(Admin({"audit", "list", "--output", "json", "--action", "cach"}).exit_code,
            0);
  auto short_option = Admin({"crl", "status", "-x"});
  EXPECT_EQ(short_option.exit_code, 2);
  EXPECT_NE(short_option.err.find("unknown option -x"), std::string::npos)
      << short_option.err;
}

TEST_F(CommandLineTest, AMissingCommandListsTheCommands) {
  auto run = Admin({"cache"});
  EXPECT_EQ(run.exit_code, 2) << run.Both();
  EXPECT_NE(run.err.find("`certctl-admin cache` needs one of its commands: truncate, "
                         "verify"),
            std::string::npos)
      << run.err;
}

TEST_F(CommandLineTest, JsonOutputGetsItsOneDocument) {
  auto run = Admin({"-o", "json", "crl", "regenrate", "iss-local"});
  EXPECT_EQ(run.exit_code, 2) << run.Both();
  ASSERT_FALSE(run.json.is_discarded()) << run.out;
  EXPECT_EQ(run.json["operation"], "crl");
  EXPECT_EQ(run.json["error"]["code"], "InvalidArgument");
  EXPECT_NE(run.json["error"]["message"].get<std::string>().find("regenerate"),
            std::string::npos);
}

TEST_F(CommandLineTest, HelpCommandIsTheCommandsHelp) {
  const std::vector<std::vector<std::string>> commands = {
      {}, {"crl"}, {"crl", "status"}, {"ocsp", "reset-responder"}, {"help"}};
  for (const auto& words : commands) {
    auto args = words;
    args.insert(args.begin(), "help");
    auto help = Admin(args);
    auto flag = words;
    flag.push_back("--help");
    auto expected = Admin(flag);
    EXPECT_EQ(help.exit_code, 0) << help.Both();
    EXPECT_EQ(expected.exit_code, 0) << expected.Both();
    EXPECT_EQ(help.out, expected.out);
    EXPECT_NE(help.out.find("Usage: certctl-admin"), std::string::npos) << help.out;
  }
  auto unknown = Admin({"help", "crl", "regenrate"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Both();
  EXPECT_NE(unknown.err.find("did you mean `certctl-admin crl regenerate`?"),
            std::string::npos)
      << unknown.err;
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
}

}  // namespace
}  // namespace certctl
