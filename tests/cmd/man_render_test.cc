// Every man page, generated or written by hand, is `mandoc -T lint` clean
// and renders at 80 columns whole: no line wider than 80, the header and
// footer not run together (issue 12: certctl-admin-ocsp-reset-responder's
// header was garbled), the NAME line intact. certctl.yaml(5) and the example
// configuration follow the loader's key table; certctl-dr(7) names only
// commands that exist.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "certctl/config/config.h"
#include "certctl/config/config_keys.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "support/pg_harness.h"

namespace certctl {
namespace {

namespace fs = std::filesystem;

std::string Source(const std::string& rel) {
  return std::string(CERTCTL_SOURCE_DIR) + "/" + rel;
}

// Every page of man/: certctl-admin's, certctl.yaml(5), certctld(8), certctl-dr(7).
std::vector<std::string> AllPages() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(Source("man"))) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Output lines with overstrike (X\bX bold, _\bX underline) removed.
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == '\b') {
      // Drop the character before (UTF-8: the whole sequence).
      while (!out.back().empty() && (out.back().back() & 0xC0) == 0x80)
        out.back().pop_back();
      if (!out.back().empty()) out.back().pop_back();
      continue;
    }
    if (c == '\n') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

size_t Columns(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;
  return n;
}

// The rendered page is whole at 80 columns: no wider line, the header "T(S)
// [centre] T(S)" with nothing run together, a NAME section naming the page.
void ExpectWhole(const std::string& page, const std::string& rendered,
                 const std::string& renderer) {
  auto lines = Lines(rendered);
  for (const auto& line : lines) {
    EXPECT_LE(Columns(line), 80u) << page << " (" << renderer << "): " << line;
  }
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  ASSERT_LT(first, lines.size()) << page;
  static const std::regex header(R"(^(\S+\(\d\)) +(?:(\S.*\S) +)?(\S+\(\d\))$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(lines[first], m, header))
      << page << " (" << renderer << ") header: " << lines[first];
  EXPECT_EQ(m[1], m[3]) << page << ": " << lines[first];
  if (m[2].matched) {
    EXPECT_EQ(m[2], "certctl manual") << page << ": " << lines[first];
  }
  std::string name = fs::path(page).stem().string();  // certctl-admin-crl-status
  auto at = std::find(lines.begin(), lines.end(), "NAME");
  ASSERT_NE(at, lines.end()) << page;
  ASSERT_NE(at + 1, lines.end());
  EXPECT_EQ((at + 1)->find("       " + name + " - "), 0u) << page << ": " << *(at + 1);
  // The footer: source, date and the title, apart.
  size_t last = lines.size() - 1;
  while (last > 0 && lines[last].empty()) --last;
  EXPECT_TRUE(
      std::regex_match(lines[last], std::regex(R"(^certctl \S+ +\S+ +\S+\(\d\)$)")))
      << page << " (" << renderer << ") footer: " << lines[last];
}

TEST(ManPagesTest, LintCleanAndWholeAtEightyColumns) {
  auto pages = AllPages();
  EXPECT_GE(pages.size(), 25u);
  for (const auto& page : pages) {
    auto lint = RunProcess({"mandoc", "-T", "lint", "-W", "style", page});
    ASSERT_TRUE(lint.ok());
    EXPECT_EQ(lint->exit_code, 0) << page;
    EXPECT_EQ(lint->output, "") << page;
    auto man = RunProcess({"man", "-l", page},
                          {.extra_env = {"MANPAGER=cat", "MANWIDTH=80", "LANG=C.UTF-8"}});
    ASSERT_TRUE(man.ok());
    EXPECT_EQ(man->exit_code, 0) << man->output;
    ExpectWhole(page, man->output, "man");
    auto mandoc = RunProcess({"mandoc", "-T", "utf8", "-O", "width=80", page});
    ASSERT_TRUE(mandoc.ok());
    ExpectWhole(page, mandoc->output, "mandoc");
  }
}

// The longest page name renders its header whole (the garbled one of issue 12).
TEST(ManPagesTest, LongestTitleFitsBesideItself) {
  auto man = RunProcess({"man", "-l", Source("man/certctl-admin-ocsp-reset-responder.1")},
                        {.extra_env = {"MANPAGER=cat", "MANWIDTH=80"}});
  ASSERT_TRUE(man.ok());
  auto lines = Lines(man->output);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].find("OCSP-RESET-RESPONDER(1)"), 0u) << lines[0];
  EXPECT_NE(lines[0].rfind("OCSP-RESET-RESPONDER(1)"), 0u) << lines[0];
}

TEST(ConfigDocsTest, PageDocumentsEveryKeyOfTheLoader) {
  auto page = ReadFile(Source("man/certctl.yaml.5"));
  ASSERT_TRUE(page.ok());
  auto man = RunProcess({"man", "-l", Source("man/certctl.yaml.5")},
                        {.extra_env = {"MANPAGER=cat", "MANWIDTH=200"}});
  ASSERT_TRUE(man.ok());
  auto keys = ConfigKeys();
  EXPECT_EQ(keys.size(), ConfigEnvironmentNames().size());
  for (const auto& k : keys) {
    EXPECT_NE(man->output.find("       " + k.key + "\n"), std::string::npos) << k.key;
    EXPECT_NE(man->output.find("(" + k.environment), std::string::npos) << k.key;
    std::string shown = k.secret                  ? "none (a secret)"
                        : k.default_value.empty() ? "none"
                                                  : k.default_value;
    EXPECT_NE(man->output.find("Type: " + k.type + ". Default: " + shown + "."),
              std::string::npos)
        << k.key;
  }
  // Defaults the loader really uses, spot-checked against Config itself.
  EXPECT_NE(man->output.find("Default: 7d."), std::string::npos);
  EXPECT_NE(man->output.find("Default: 127.0.0.1:8443."), std::string::npos);
  EXPECT_NE(man->output.find("       api_keys"), std::string::npos);
  EXPECT_NE(man->output.find("       trust_anchors"), std::string::npos);
}

// The example loads as it is (all commented) and with every sample value
// uncommented, so each value in it is one the loader accepts.
TEST(ConfigDocsTest, ExampleLoadsCommentedAndUncommented) {
  auto example = ReadFile(Source("examples/certctl.yaml"));
  ASSERT_TRUE(example.ok());
  auto as_is = LoadConfig({.path = Source("examples/certctl.yaml"),
                           .path_is_explicit = true,
                           .environment = std::map<std::string, std::string>{}});
  ASSERT_TRUE(as_is.ok()) << as_is.status().ToString();
  std::stringstream in(*example);
  std::string line, uncommented;
  std::set<std::string> keys_seen;
  while (std::getline(in, line)) {
    bool setting = line.size() > 1 && line[0] == '#' &&
                   (line[1] != ' ' || line.rfind("#  ", 0) == 0);
    if (!setting) continue;
    std::string yaml = line.substr(1);
    std::string key = yaml.substr(0, yaml.find(':'));
    keys_seen.insert(key);
    // A secret's sample is a file that does not exist here.
    if (key.size() > 5 && key.ends_with("_file")) continue;
    uncommented += yaml + "\n";
  }
  for (const auto& k : ConfigKeys()) {
    EXPECT_TRUE(keys_seen.count(k.key) || keys_seen.count(k.key + "_file")) << k.key;
  }
  testing::TempDir tmp;
  std::string path = tmp / "certctl.yaml";
  ASSERT_TRUE(
      WriteFileAtomic(path, uncommented, {.mode = 0600, .keep_backup = false}).ok());
  auto loaded = LoadConfig({.path = path,
                            .path_is_explicit = true,
                            .environment = std::map<std::string, std::string>{}});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString() << "\n" << uncommented;
  EXPECT_EQ(loaded->database_url.view(), "postgresql:///certctl?host=/run/postgresql");
  EXPECT_EQ(loaded->ca_cert_path, "/var/lib/certctl/ca/ca.crt");
  ASSERT_EQ(loaded->api_keys.size(), 1u);
  EXPECT_EQ(loaded->api_keys[0].name, "ops");
  ASSERT_EQ(loaded->trust_anchors.size(), 1u);
}

// certctl-dr(7) points only to commands certctl-admin has (issue 11's
// `dr drill` was the last one missing).
TEST(DrPageTest, NamesOnlyCommandsThatExist) {
  auto page = ReadFile(Source("man/certctl-dr.7"));
  ASSERT_TRUE(page.ok());
  static const std::regex command(R"(certctl\\-admin ([a-z]+) ([a-z]+(?:\\-[a-z]+)*))");
  std::set<std::string> named;
  for (std::sregex_iterator it(page->begin(), page->end(), command), end; it != end;
       ++it) {
    std::string sub = (*it)[2];
    for (size_t at; (at = sub.find("\\-")) != std::string::npos;) sub.replace(at, 2, "-");
    named.insert(std::string((*it)[1]) + " " + sub);
  }
  EXPECT_GE(named.size(), 12u);
  EXPECT_TRUE(named.count("dr drill"));
  for (const auto& name : named) {
    std::string group = name.substr(0, name.find(' '));
    std::string sub = name.substr(name.find(' ') + 1);
    auto help = RunProcess({CERTCTL_ADMIN_PATH, "help", group, sub});
    ASSERT_TRUE(help.ok());
    EXPECT_EQ(help->exit_code, 0) << "certctl-dr(7) names `certctl-admin " << name
                                  << "`, which does not exist: " << help->output;
  }
}

}  // namespace
}  // namespace certctl
