// The command tree as the doc generators see it, and the hidden
// `generate-docs` command that writes man/ and completions/.
#include "docs.h"

#include <filesystem>

#include "certctl/util/files.h"
#include "commands.h"

namespace certctl::admin {
namespace fs = std::filesystem;

std::string CommandNode::Spaced() const {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string CommandNode::PageName() const {
  std::string out = "certctl-admin";
  for (const auto& p : path) out += "-" + p;
  return out;
}

std::vector<const CLI::App*> VisibleSubcommands(const CLI::App* app) {
  return app->get_subcommands(
      [](const CLI::App* sub) { return !sub->get_group().empty(); });
}

namespace {

void CollectLeaves(const AdminApp& admin, const CLI::App* app,
                   std::vector<std::string> path, std::vector<CommandNode>& out) {
  for (const CLI::App* sub : VisibleSubcommands(app)) {
    auto sub_path = path;
    sub_path.push_back(sub->get_name());
    if (VisibleSubcommands(sub).empty()) {
      out.push_back({sub, sub_path, admin.DocFor(sub)});
    } else {
      CollectLeaves(admin, sub, sub_path, out);
    }
  }
}

// Writes `files` into `dir`, and removes files there that `prefixes` claim
// but this run did not generate (a command that was removed).
Status WriteAll(const std::string& dir, const GeneratedFiles& files,
                const std::vector<std::string>& prefixes) {
  RETURN_IF_ERROR(EnsureDirectory(dir, 0755));
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    bool ours = false;
    for (const auto& p : prefixes) ours = ours || name.rfind(p, 0) == 0;
    if (ours && !files.count(name)) fs::remove(entry.path(), ec);
  }
  for (const auto& [name, content] : files) {
    RETURN_IF_ERROR(
        WriteFileAtomic(dir + "/" + name, content, {.mode = 0644, .keep_backup = false}));
  }
  return Status::Ok();
}

}  // namespace

std::vector<CommandNode> LeafCommands(const AdminApp& app) {
  std::vector<CommandNode> out;
  CollectLeaves(app, &app.root(), {}, out);
  return out;
}

bool IsFlag(const CLI::Option* option) { return option->get_expected_max() == 0; }

std::vector<const CLI::Option*> NamedOptions(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) {
    return o->nonpositional() && o->get_name() != "--help" &&
           o->get_name() != "--version";
  });
}

std::vector<const CLI::Option*> Positionals(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return !o->nonpositional(); });
}

std::string ValueName(const AdminApp& app, const CLI::Option* option) {
  if (const auto* choices = app.ChoicesFor(option)) {
    std::string out;
    for (const auto& c : *choices) out += (out.empty() ? "" : "|") + c;
    return out;
  }
  std::string type = option->get_type_name();
  type = type.substr(0, type.find(':'));
  return type == "TEXT" ? "VALUE" : type == "INT" ? "N" : type;
}

void RegisterDocsCommand(AdminApp& app) {
  auto& man_dir = app.Make<std::string>();
  auto& completions_dir = app.Make<std::string>();
  auto& example_dir = app.Make<std::string>();
  auto* cmd = app.root().add_subcommand(
      "generate-docs", "Write the man pages and shell completions (for maintainers)");
  cmd->group("");  // hidden: not in --help, the pages or the completions
  cmd->add_option("--man-dir", man_dir, "Where to write the man pages")->required();
  cmd->add_option("--completions-dir", completions_dir, "Where to write the completions")
      ->required();
  cmd->add_option("--example-dir", example_dir,
                  "Where to write the example configuration, certctl.yaml")
      ->required();
  cmd->callback([&app, &man_dir, &completions_dir, &example_dir] {
    app.SetAction("generate-docs", [&app, &man_dir, &completions_dir, &example_dir] {
      Status s = WriteAll(man_dir, ManPages(app), {"certctl-admin", "certctl.yaml"});
      if (s.ok()) {
        s = WriteAll(completions_dir, Completions(app),
                     {"certctl-admin", "_certctl-admin"});
      }
      if (s.ok()) {
        s = WriteAll(example_dir, {{"certctl.yaml", ExampleConfig()}}, {"certctl.yaml"});
      }
      if (!s.ok()) return app.Fail(s);
    });
  });
}

}  // namespace certctl::admin
