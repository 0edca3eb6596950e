// Man pages and shell completions, generated from the CLI11 command tree and
// each command's CommandDoc: one source of truth for --help, man and
// completion, never a second list kept in sync by hand.
//
// `certctl-admin generate-docs --man-dir DIR --completions-dir DIR
// --example-dir DIR` (hidden) writes them, with certctl.yaml(5) and the
// example certctl.yaml from the configuration loader's key table; man/,
// completions/ and examples/ in the source tree hold the committed output,
// and a test regenerates it and fails when it differs.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "app.h"

namespace certctl::admin {

// A command as the generators see it.
struct CommandNode {
  const CLI::App* app = nullptr;
  std::vector<std::string> path;  // {"crl", "status"}
  const CommandDoc* doc = nullptr;

  std::string Spaced() const;    // "crl status"
  std::string PageName() const;  // "certctl-admin-crl-status"
};

// Subcommands shown in help, in registration order (hidden ones, with an
// empty group, are left out).
std::vector<const CLI::App*> VisibleSubcommands(const CLI::App* app);
// Every command that runs something (the leaves of the tree), in order.
std::vector<CommandNode> LeafCommands(const AdminApp& app);
// Options shown for a command: not help/version, not positional.
std::vector<const CLI::Option*> NamedOptions(const CLI::App* app);
std::vector<const CLI::Option*> Positionals(const CLI::App* app);
// True for an option that takes no value.
bool IsFlag(const CLI::Option* option);
// The value placeholder: "text|json" for choices, else the type name ("FILE").
std::string ValueName(const AdminApp& app, const CLI::Option* option);

// File name -> content.
using GeneratedFiles = std::map<std::string, std::string>;
// certctl-admin.1, one page per command, and certctl.yaml.5.
GeneratedFiles ManPages(const AdminApp& app);
// certctl.yaml(5) and the commented example certctl.yaml (man_config.cc).
std::string ConfigPage();
std::string ExampleConfig();
// certctl-admin.bash, _certctl-admin (zsh), certctl-admin.fish.
GeneratedFiles Completions(const AdminApp& app);

// Registers the hidden `generate-docs` command.
void RegisterDocsCommand(AdminApp& app);

}  // namespace certctl::admin
