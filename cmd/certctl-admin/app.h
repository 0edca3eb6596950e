// The shared frame of every certctl-admin command: global options, opening
// the configuration and database, confirmation, rendering reports, exit codes.
//
// A command callback parses its own flags, calls one core/ops function and
// hands the OpReport to Finish(). Nothing here talks SQL or OpenSSL.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/net/http_client.h"
#include "certctl/ops/keyring.h"
#include "certctl/ops/op.h"
#include "certctl/ops/op_json.h"
#include "certctl/store/database.h"
#include "certctl/util/clock.h"

namespace certctl::admin {

enum class OutputFormat { kText, kJson };

// Long help and real examples, kept next to the command's code; the man pages
// and shell completions are generated from these and the CLI11 tree
// (`certctl-admin generate-docs`).
struct CommandDoc {
  std::string synopsis_note;  // optional extra line under SYNOPSIS
  std::string description;    // paragraphs separated by blank lines
  std::vector<std::pair<std::string, std::string>> examples;  // {command, what it does}
  // The keys of the report's "data" object in JSON output, with their meaning.
  std::vector<std::pair<std::string, std::string>> json_data;
  std::string findings;  // what exit status 1 means for this command
  // This command's own meaning of an exit status, where it differs from what
  // the status means for every command (man page EXIT STATUS, see
  // man_pages.cc); "" for a status the command never exits with.
  std::map<int, std::string> exit_status;
  bool mutating = false;     // documents --dry-run/--yes/--wait and audit
  bool destructive = false;  // needs --yes when stdin is not a terminal
  bool locked = true;        // mutating: takes an operation lock (exit 75, --wait)
  // Not mutating: what it writes all the same (e.g. an audit event); empty:
  // "It changes nothing."
  std::string read_only_note;
};

// Kinds of names the shell completions list at run time with the hidden
// `certctl-admin __complete KIND` (complete.cc).
inline constexpr char kIssuerNames[] = "issuers";
inline constexpr char kTrustBundleNames[] = "trust-bundles";
inline constexpr char kAuditActionNames[] = "audit-actions";
inline constexpr char kLockNames[] = "locks";

// Flags every mutating command has.
struct MutationFlags {
  bool dry_run = false;
  bool yes = false;
  std::string wait;  // duration; empty: do not wait for a held lock
};

struct GlobalOptions {
  std::string config_path;
  bool dev = false;
  std::string data_dir;
  std::string database_url;  // --database-url (overrides the config)
  std::string output = "text";
  std::string actor;
  bool no_color = false;
  std::string ca_file;  // extra CA for https:// (default: the configured CA certificate)
  std::string timeout = "10s";  // HTTP deadline
};

// Everything a command needs to run an operation. Built on demand by
// AdminApp::Open(), so `--help` and usage errors never touch the database.
struct Environment {
  Config config;
  std::unique_ptr<Database> db;
  std::unique_ptr<ops::CaKeyring> keyring;
  std::shared_ptr<spdlog::logger> logger;
  const Clock* clock = &SystemClock::Instance();
  ops::Actor actor;
  std::unique_ptr<ops::Progress> progress;  // set only when stderr is a terminal

  // An OpContext for this environment; `flags` may be null for read-only work.
  ops::OpContext Context(const MutationFlags* flags = nullptr);
};

// How AdminApp::Open() opens the database.
struct OpenOptions {
  bool allow_outdated_schema = false;  // db migrate/status work on an old schema
  // false: no connection yet, for a command that may not need the database:
  // it connects (or fails with 69) only when something uses it.
  bool connect = true;
  std::chrono::seconds connect_timeout{5};
};

enum class Colour { kGreen, kYellow, kRed, kBold };

class AdminApp {
 public:
  AdminApp(int argc, char** argv);

  CLI::App& root() { return root_; }
  const CLI::App& root() const { return root_; }
  GlobalOptions& globals() { return globals_; }
  OutputFormat output() const;
  bool color() const;  // stdout is a TTY, NO_COLOR unset, --no-color not given
  // `text` wrapped in the colour's escape codes when color(), else as is.
  std::string Paint(std::string_view text, Colour colour) const;
  // Colour for a verdict word: ok green, warning yellow, anything else red.
  std::string PaintVerdict(std::string_view verdict) const;

  // Registers documentation for `cmd` (see CommandDoc).
  void Document(CLI::App* cmd, CommandDoc doc);
  const CommandDoc* DocFor(const CLI::App* cmd) const;
  // Restricts an option to `values` and remembers them for completions.
  CLI::Option* Choices(CLI::Option* option, std::vector<std::string> values);
  const std::vector<std::string>* ChoicesFor(const CLI::Option* option) const;
  // Completes `option` (or positional) with the names of `kind` (kIssuerNames
  // ...) that `__complete` lists when the shell asks.
  CLI::Option* CompleteWith(CLI::Option* option, std::string kind);
  const std::string* CompletionFor(const CLI::Option* option) const;

  // Adds --dry-run, --yes and (when it takes an operation lock) --wait to a
  // mutating command.
  void AddMutationFlags(CLI::App* cmd, MutationFlags& flags, bool locked = true);

  // Loads the configuration only (no database).
  Result<Config> LoadConfiguration();
  // Loads the configuration and opens the database, refusing a schema that is
  // behind unless `allow_outdated_schema` (db migrate/status need that).
  Result<std::unique_ptr<Environment>> Open(bool allow_outdated_schema = false) {
    return Open(OpenOptions{.allow_outdated_schema = allow_outdated_schema});
  }
  Result<std::unique_ptr<Environment>> Open(const OpenOptions& options);

  // An HTTP client for checks against certctld: --timeout, and --ca-file or
  // else the configured CA certificate (which signs certctld's dev TLS
  // certificate) on top of the system store.
  Result<net::HttpClient> HttpClientFor(const Config& config) const;
  // https://<listen_api>, the admin API of the certctld this config runs.
  static std::string AdminApiUrl(const Config& config);

  // For destructive commands: on a TTY asks "question [y/N]"; without a TTY
  // requires --yes. Returns OK to proceed, or InvalidArgument (exit 2) when
  // refused or unconfirmed. Dry runs need no confirmation.
  Status Confirm(const MutationFlags& flags, const std::string& question);

  // Renders an operation's outcome (the JSON document of
  // certctl/ops/op_json.h, or the text and the error on stderr) and sets the
  // exit code: the status's code, else 1 when a finding is an error, else 0.
  void Finish(const ops::OpReport& report, const Status& status,
              const ops::ReportJsonParts& json,
              const std::function<void(std::ostream&)>& text);
  // The same for an operation's typed result; `text` renders it (also when
  // it failed: then only the report's plan, steps and findings are known).
  template <typename T>
  using TextRenderer =
      std::function<void(const ops::OpReport&, const Result<T>&, std::ostream&)>;
  template <typename T>
  void Finish(const ops::OpReport& report, const Result<T>& result,
              const std::type_identity_t<TextRenderer<T>>& text);
  // Reports a failure that happened before an operation could run; in JSON
  // the document has the same keys as a report's, with `operation` named
  // after the command ("crl.status").
  void Fail(const Status& status);

  // Registers the action to run after parsing; commands call this from their
  // CLI11 callback so that errors are reported uniformly. `operation` names
  // the command in JSON output when it fails before its operation runs.
  void SetAction(std::string operation, std::function<void()> action) {
    operation_ = std::move(operation);
    action_ = std::move(action);
  }

  // Storage that lives as long as the app, for option variables bound by CLI11.
  template <typename T>
  T& Make() {
    auto p = std::make_shared<T>();
    storage_.push_back(p);
    return *p;
  }

  int Run();
  int exit_code() const { return exit_code_; }
  // For commands with exit codes of their own (dr check: 3, 4), after Finish.
  void SetExitCode(int code) { exit_code_ = code; }

 private:
  // A command line that was not understood: the message on stderr (and with
  // --output json the one document, its operation `operation`); exit 2.
  int UsageError(const std::string& message, const std::string& operation);

  CLI::App root_;
  GlobalOptions globals_;
  std::map<const CLI::App*, CommandDoc> docs_;
  std::map<const CLI::Option*, std::vector<std::string>> choices_;
  std::map<const CLI::Option*, std::string> completions_;
  std::string operation_;
  std::function<void()> action_;
  std::vector<std::shared_ptr<void>> storage_;
  int exit_code_ = 0;
  int argc_;
  char** argv_;
  std::string command_line_;
};

// An ISSUER positional, optionally with --all (mutually exclusive).
struct IssuerChoice {
  std::string issuer;
  bool all = false;
};
void AddIssuerArgument(CLI::App* cmd, IssuerChoice& choice, bool with_all,
                       const std::string& all_help = "Every issuer");

// One target's run of a command given --all, for CombineRuns.
struct PartRun {
  const ops::OpReport* report = nullptr;
  Status status;
  ops::ReportJsonParts json;  // of its result (a failed run: what it knows)
};

// The runs of one command over several targets, as one document.
struct CombinedRun {
  ops::OpReport report;
  Status status;
  ops::ReportJsonParts json;
};

// Folds the runs into one: plan, steps and findings in order, data[list_key]
// holding each part's data plus "ok" and "error", before/after keyed by
// target, duration summed, and the status of the first part that failed.
CombinedRun CombineRuns(const std::string& operation, const std::string& target,
                        const std::vector<PartRun>& parts, const std::string& list_key);

template <typename T>
void AdminApp::Finish(const ops::OpReport& report, const Result<T>& result,
                      const std::type_identity_t<TextRenderer<T>>& text) {
  Finish(report, result.status(),
         result.ok() ? ops::JsonParts(*result) : ops::ReportJsonParts{},
         [&](std::ostream& out) { text(report, result, out); });
}

}  // namespace certctl::admin
