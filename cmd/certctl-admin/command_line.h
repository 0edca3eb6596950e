// The words of a command line checked against the command tree before CLI11
// parses them, so that a word the tree does not know is named with the
// nearest one it does. CLI11 alone answers `certctl-admin ca rotate` with "A
// subcommand is required", and lets `db restore-check --help` print db's help
// and exit 0 (the unknown word is an extra that --help never looks at).
//
// Everything comes from the CLI11 tree (commands, hidden ones too, and each
// level's options with its parents'), so a new command is known here the
// moment it is registered.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/util/status.h"

namespace certctl::admin {

// The candidate nearest to `word` by edit distance (a transposition counts
// as one edit), or a candidate that `word` starts or that starts with
// `word`; "" when none is near enough to be a likely typo.
std::string Nearest(std::string_view word, const std::vector<std::string>& candidates);

// Where a command line leads in the tree.
struct CommandPath {
  std::vector<const CLI::App*> chain;  // the root first, then each subcommand
  std::string Spaced() const;          // "certctl-admin crl status"
  std::string Dotted() const;          // "crl.status" (the JSON operation)
};

// Follows `args` (argv without the program name) through the tree from
// `root`. InvalidArgument, naming the word and suggesting the nearest
// existing one, for an unknown command (a word where only subcommands may
// stand) or an unknown option (not an option of the command reached or of
// one above it). `path` is where the walk got to, also on failure. Stops
// at "--"; values of options are skipped, not checked.
Status CheckCommandLine(const CLI::App& root, const std::vector<std::string>& args,
                        CommandPath& path);

// Whether `app` is a group of commands (it has subcommands and no arguments).
bool IsGroup(const CLI::App* app);
// "`certctl-admin crl` needs one of its commands: status, regenerate, verify".
std::string MissingCommand(const CommandPath& path);

// The command `words` names ({"crl", "status"}), for `certctl-admin help`;
// InvalidArgument as above for a word that is not a subcommand.
Result<CommandPath> FindCommand(const CLI::App& root,
                                const std::vector<std::string>& words);

}  // namespace certctl::admin
