// The man pages and completions in the source tree are exactly what the
// command tree generates, render cleanly, and complete.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <set>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

namespace fs = std::filesystem;

// The generated files in `dir`: certctl-admin's pages and completions,
// certctl.yaml(5) and the example certctl.yaml (not the hand-written
// certctld and certctl-dr files beside them).
std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.find("certctl-admin") != std::string::npos ||
        name.rfind("certctl.yaml", 0) == 0) {
      out.insert(name);
    }
  }
  return out;
}

// The ".SH" headings of a page, in order.
std::vector<std::string> Sections(const std::string& page) {
  std::vector<std::string> out;
  for (size_t at = page.find(".SH "); at != std::string::npos;
       at = page.find("\n.SH ", at + 1)) {
    size_t start = page[at] == '\n' ? at + 5 : at + 4;
    out.push_back(page.substr(start, page.find('\n', start) - start));
  }
  return out;
}

class DocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = RunProcess({CERTCTL_ADMIN_PATH, "generate-docs", "--man-dir", tmp_ / "man",
                         "--completions-dir", tmp_ / "completions", "--example-dir",
                         tmp_ / "examples"});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->exit_code, 0) << r->output;
  }
  std::string Generated(const std::string& sub) { return tmp_ / sub; }
  testing::TempDir tmp_;
};

TEST_F(DocsTest, CommittedDocsAreCurrent) {
  for (std::string sub : {"man", "completions", "examples"}) {
    std::string committed = std::string(CERTCTL_SOURCE_DIR) + "/" + sub;
    auto want = Names(Generated(sub));
    EXPECT_EQ(Names(committed), want)
        << sub
        << "/ differs from the command tree: run `certctl-admin generate-docs --man-dir "
           "man --completions-dir completions --example-dir examples` (or `ninja "
           "certctl-docs`) and commit";
    for (const auto& name : want) {
      auto fresh = ReadFile(Generated(sub) + "/" + name);
      auto old = ReadFile(committed + "/" + name);
      ASSERT_TRUE(fresh.ok());
      EXPECT_TRUE(old.ok() && *old == *fresh)
          << sub << "/" << name << " is out of date: regenerate it (ninja certctl-docs)";
    }
  }
}

TEST_F(DocsTest, EveryPageHasEverySectionAndRendersCleanly) {
  auto pages = Names(Generated("man"));
  pages.erase("certctl.yaml.5");
  EXPECT_EQ(pages.size(), 29u);  // certctl-admin(1) and 28 commands
  for (const auto& page : pages) {
    std::string path = Generated("man") + "/" + page;
    auto text = ReadFile(path);
    ASSERT_TRUE(text.ok());
    // certctl-admin(1) holds what every command shares; a command's page
    // keeps to that command (issue 12).
    if (page == "certctl-admin.1") {
      EXPECT_EQ(Sections(*text),
                (std::vector<std::string>{"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS",
                                          "GLOBAL OPTIONS", "CHANGING STATE",
                                          "JSON OUTPUT", "EXIT STATUS", "ENVIRONMENT",
                                          "FILES", "EXAMPLES", "SEE ALSO"}));
    } else {
      EXPECT_EQ(Sections(*text),
                (std::vector<std::string>{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                                          "EXIT STATUS", "EXAMPLES", "SEE ALSO"}))
          << page;
    }
    // certctl-admin(1) says what every status means; a command's page lists
    // the statuses that command exits with (at least 0 and 2), and no other.
    size_t from = text->find(".SH EXIT STATUS");
    std::string exits = text->substr(from, text->find(".SH ", from + 1) - from);
    std::vector<std::string> listed;
    for (size_t at = exits.find("\n.B "); at != std::string::npos;
         at = exits.find("\n.B ", at + 1)) {
      listed.push_back(exits.substr(at + 4, exits.find('\n', at + 1) - at - 4));
    }
    if (page == "certctl-admin.1") {
      EXPECT_EQ(listed,
                (std::vector<std::string>{"0", "1", "2", "69", "70", "75", "78"}));
    } else {
      // 130 and 143: a command that cleans up on SIGINT and SIGTERM, then
      // ends of the signal (db restore-check, dr drill).
      const std::set<std::string> known = {"0",  "1",  "2",  "3",   "4",  "69",
                                           "70", "75", "78", "130", "143"};
      std::set<std::string> set(listed.begin(), listed.end());
      EXPECT_TRUE(set.count("0") && set.count("2")) << page;
      for (const auto& code : listed) EXPECT_TRUE(known.count(code)) << page << code;
    }
    // groff with every warning on: any output is a problem in the page.
    auto groff = RunProcess({"groff", "-man", "-Tutf8", "-ww", "-z", path});
    ASSERT_TRUE(groff.ok());
    EXPECT_EQ(groff->exit_code, 0);
    EXPECT_EQ(groff->output, "") << page;
  }
  // Each command's own statuses (issue 12): what a refusal, a fix and a lock
  // mean for it, and none it never exits with.
  auto exits = [&](const std::string& page) {
    auto text = ReadFile(Generated("man") + "/" + page);
    EXPECT_TRUE(text.ok()) << page;
    if (!text.ok()) return std::string();
    size_t from = text->find(".SH EXIT STATUS");
    return text->substr(from, text->find(".SH ", from + 1) - from);
  };
  // Text lines are filled at 80 bytes: a phrase may span two.
  auto flat = [](std::string text) {
    for (auto& c : text) c = c == '\n' ? ' ' : c;
    return text;
  };
  std::string reload = exits("certctl-admin-trust-reload.1");
  EXPECT_NE(flat(reload).find("would refuse it"), std::string::npos) << reload;
  EXPECT_EQ(reload.find("\n.B 75\n"), std::string::npos) << reload;
  std::string check = exits("certctl-admin-trust-check.1");
  EXPECT_EQ(check.find("\n.B 69\n"), std::string::npos) << check;
  std::string verify = exits("certctl-admin-cache-verify.1");
  EXPECT_NE(flat(verify).find("every bad answer was removed"), std::string::npos)
      << verify;
  EXPECT_NE(verify.find("\n.B 75\n"), std::string::npos) << verify;
  EXPECT_EQ(exits("certctl-admin-crl-status.1").find("\n.B 75\n"), std::string::npos);

  // dr check: its own exit codes, the cron line and the systemd timer.
  auto dr = ReadFile(Generated("man") + "/certctl-admin-dr-check.1");
  ASSERT_TRUE(dr.ok());
  for (const char* want :
       {"\n.B 3\n", "\n.B 4\n", "/etc/cron.d/certctl\\-dr", "\\-\\-output prometheus",
        "OnCalendar=", "certctl\\-dr\\-check.timer"}) {
    EXPECT_NE(dr->find(want), std::string::npos) << "dr check page lacks " << want;
  }
  auto rendered =
      RunProcess({"man", "-l", Generated("man") + "/certctl-admin-crl-regenerate.1"},
                 {.extra_env = {"MANPAGER=cat", "MANWIDTH=100"}});
  ASSERT_TRUE(rendered.ok());
  EXPECT_NE(rendered->output.find(
                "certctl-admin crl regenerate iss-local --invalidate-only --yes"),
            std::string::npos)
      << rendered->output;
  EXPECT_NE(rendered->output.find("--dry-run"), std::string::npos);
}

TEST_F(DocsTest, BashCompletionCompletesCommandsOptionsAndValues) {
  std::string script = Generated("completions") + "/certctl-admin.bash";
  auto complete = [&](const std::string& line) {
    // COMP_WORDS as bash splits the line, the cursor on the last word.
    std::string words = "(" + line + ")";
    if (!line.empty() && line.back() == ' ') words = "(" + line + "'')";
    auto r = RunProcess({"bash", "-c",
                         "source \"$0\"; COMP_WORDS=" + words +
                             "; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _certctl_admin; "
                             "((${#COMPREPLY[@]})) && printf '%s\\n' \"${COMPREPLY[@]}\" "
                             "| sort | tr '\\n' ' '",
                         script});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  };
  EXPECT_EQ(complete("certctl-admin cr"), "crl ");
  EXPECT_EQ(complete("certctl-admin crl re"), "regenerate ");
  EXPECT_EQ(complete("certctl-admin ocsp "),
            "check prune-backups reset-responder status ");
  EXPECT_EQ(complete("certctl-admin ca "), "backup rotate status ");
  EXPECT_EQ(complete("certctl-admin ca backup --v"), "--verify ");
  EXPECT_EQ(complete("certctl-admin -o "), "json text ");
  EXPECT_EQ(complete("certctl-admin cache truncate --se"), "--serial ");
  EXPECT_NE(complete("certctl-admin cache truncate --").find("--dry-run"),
            std::string::npos);
  EXPECT_EQ(complete("certctl-admin gen"), "");  // hidden
  auto syntax = RunProcess({"bash", "-n", script});
  EXPECT_EQ(syntax->exit_code, 0) << syntax->output;
}

TEST_F(DocsTest, ZshAndFishCompletionsParseAndComplete) {
  auto zsh = ReadFile(Generated("completions") + "/_certctl-admin");
  auto fish = ReadFile(Generated("completions") + "/certctl-admin.fish");
  ASSERT_TRUE(zsh.ok() && fish.ok());
  EXPECT_EQ(zsh->rfind("#compdef certctl-admin\n", 0), 0u);
  for (const char* cmd :
       {"reset-responder", "truncate", "regenerate", "reload", "verify"}) {
    EXPECT_NE(zsh->find(std::string("'") + cmd + ":"), std::string::npos) << cmd;
    EXPECT_NE(fish->find(std::string("-a ") + cmd + " "), std::string::npos) << cmd;
  }
  EXPECT_NE(fish->find("-l output -x -a 'text json'"), std::string::npos);
  // The shells themselves: zsh parses its script; fish loads its own and
  // completes a command line with it.
  auto zsh_syntax =
      RunProcess({"zsh", "-n", Generated("completions") + "/_certctl-admin"});
  ASSERT_TRUE(zsh_syntax.ok());
  EXPECT_EQ(zsh_syntax->exit_code, 0) << zsh_syntax->output;
  auto fish_complete = [&](const std::string& line) {
    auto r = RunProcess({"fish", "--no-config", "-c",
                         "source $argv[1]; complete -C $argv[2] | cut -f1 | sort | "
                         "string join ' '",
                         Generated("completions") + "/certctl-admin.fish", line});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  };
  EXPECT_EQ(fish_complete("certctl-admin crl re"), "regenerate\n");
  EXPECT_EQ(fish_complete("certctl-admin ocsp "),
            "check prune-backups reset-responder status\n");
  EXPECT_EQ(fish_complete("certctl-admin -o "), "json text\n");
  EXPECT_EQ(fish_complete("certctl-admin cache truncate --se"), "--serial\n");
  EXPECT_EQ(zsh->find("(generate-docs)"), std::string::npos);
  EXPECT_EQ(fish->find("-a generate-docs"), std::string::npos);
  // Balanced quotes: every line of the fish script has an even number of
  // unescaped single quotes.
  size_t start = 0;
  while (start < fish->size()) {
    size_t end = fish->find('\n', start);
    std::string line = fish->substr(start, end - start);
    int quotes = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\'' && (i == 0 || line[i - 1] != '\\')) ++quotes;
    }
    EXPECT_EQ(quotes % 2, 0) << line;
    start = end + 1;
  }
}

// certctld(8) and certctld's completions are written by hand: they must keep
// up with `certctld --help` and the configuration keys, and render cleanly.
class CertctldDocsTest : public ::testing::Test {
 protected:
  static std::string Source(const std::string& rel) {
    auto text = ReadFile(std::string(CERTCTL_SOURCE_DIR) + "/" + rel);
    EXPECT_TRUE(text.ok()) << rel;
    return text.ok() ? *text : std::string();
  }
  // `word` occurs in `text` not followed by a letter or dash: "--log" is
  // not found in "--log-level".
  static bool HasWord(const std::string& text, const std::string& word) {
    for (size_t at = text.find(word); at != std::string::npos;
         at = text.find(word, at + 1)) {
      char next = at + word.size() < text.size() ? text[at + word.size()] : ' ';
      if (!std::isalnum(static_cast<unsigned char>(next)) && next != '-' &&
          next != '\\') {
        return true;
      }
    }
    return false;
  }
  // Every long option `certctld --help` lists ("--config", ...).
  static std::vector<std::string> Options() {
    auto help = RunProcess({CERTCTLD_PATH, "--help"});
    EXPECT_TRUE(help.ok() && help->exit_code == 0);
    std::vector<std::string> out;
    std::string text = help.ok() ? help->output : "";
    for (size_t at = text.find("--"); at != std::string::npos;
         at = text.find("--", at + 2)) {
      size_t end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", at + 2);
      out.push_back(text.substr(at, end - at));
    }
    return out;
  }
};

TEST_F(CertctldDocsTest, ManPageDocumentsEveryOptionAndKeyAndRendersCleanly) {
  std::string page = Source("man/certctld.8");
  for (const char* section :
       {".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH OPTIONS", ".SH ENDPOINTS",
        ".SH SIGNALS", ".SH ENVIRONMENT", ".SH EXIT STATUS", ".SH FILES", ".SH EXAMPLES",
        ".SH SEE ALSO"}) {
    EXPECT_NE(page.find(section), std::string::npos) << "certctld.8 lacks " << section;
  }
  auto options = Options();
  EXPECT_GE(options.size(), 6u);
  size_t from = page.find(".SH OPTIONS");
  std::string section = page.substr(from, page.find(".SH ", from + 1) - from);
  for (const auto& option : options) {
    std::string roff;  // "--data-dir" is written \-\-data\-dir
    for (char c : option) roff += c == '-' ? std::string("\\-") : std::string(1, c);
    EXPECT_TRUE(HasWord(section, roff)) << "certctld.8 lacks " << option;
  }
  for (const auto& name : ConfigEnvironmentNames()) {
    EXPECT_NE(page.find(name), std::string::npos)
        << "certctld.8 does not document " << name;
  }
  auto groff = RunProcess({"groff", "-man", "-Tutf8", "-ww", "-z",
                           std::string(CERTCTL_SOURCE_DIR) + "/man/certctld.8"});
  ASSERT_TRUE(groff.ok());
  EXPECT_EQ(groff->exit_code, 0);
  EXPECT_EQ(groff->output, "");
}

TEST_F(CertctldDocsTest, CompletionsOfferEveryOption) {
  std::string bash = Source("completions/certctld.bash");
  std::string zsh = Source("completions/_certctld");
  std::string fish = Source("completions/certctld.fish");
  for (const auto& option : Options()) {
    EXPECT_TRUE(HasWord(bash, option)) << "bash lacks " << option;
    EXPECT_TRUE(HasWord(zsh, option)) << "zsh lacks " << option;
    EXPECT_NE(fish.find("-l " + option.substr(2) + " "), std::string::npos)
        << "fish lacks " << option;
  }
  std::string script = std::string(CERTCTL_SOURCE_DIR) + "/completions/certctld.bash";
  auto complete = [&](const std::string& words, int cword) {
    auto r = RunProcess({"bash", "-c",
                         "source \"$0\"; COMP_WORDS=" + words +
                             "; COMP_CWORD=" + std::to_string(cword) +
                             "; _certctld; printf '%s ' \"${COMPREPLY[@]}\"",
                         script});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->output : std::string();
  };
  EXPECT_EQ(complete("(certctld --log-f)", 1), "--log-format ");
  EXPECT_EQ(complete("(certctld --log-format '')", 2), "text json ");
  EXPECT_EQ(complete("(certctld --log-level w)", 2), "warn ");
  auto syntax = RunProcess({"bash", "-n", script});
  ASSERT_TRUE(syntax.ok());
  EXPECT_EQ(syntax->exit_code, 0) << syntax->output;
  auto zsh_syntax = RunProcess(
      {"zsh", "-n", std::string(CERTCTL_SOURCE_DIR) + "/completions/_certctld"});
  ASSERT_TRUE(zsh_syntax.ok());
  EXPECT_EQ(zsh_syntax->exit_code, 0) << zsh_syntax->output;
  auto fished =
      RunProcess({"fish", "--no-config", "-c",
                  "source $argv[1]; complete -C 'certctld --log-format ' | cut -f1 | "
                  "sort | string join ' '",
                  std::string(CERTCTL_SOURCE_DIR) + "/completions/certctld.fish"});
  ASSERT_TRUE(fished.ok());
  EXPECT_EQ(fished->output, "json text\n");
}

}  // namespace
}  // namespace certctl
