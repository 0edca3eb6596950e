#include "app.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "certctl/log/logging.h"
#include "certctl/ops/db_ops.h"
#include "certctl/ops/dev_environment.h"
#include "certctl/ops/version.h"
#include "certctl/util/exit_codes.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"
#include "command_line.h"

namespace certctl::admin {
namespace {

// Flags whose values are secrets or may hold one (a database URL's password).
bool IsSensitiveFlag(std::string_view flag) {
  for (std::string_view word : {"key", "token", "password", "secret", "database-url",
                                "from-database", "scratch-url"}) {
    if (flag.find(word) != std::string_view::npos && flag.rfind("--", 0) == 0) {
      return flag.find("-file") == std::string_view::npos && flag != "--keep-key";
    }
  }
  return false;
}

std::string MaskedCommandLine(int argc, char** argv) {
  std::string out = "certctl-admin";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string flag = arg.substr(0, eq);
    out += ' ';
    if (IsSensitiveFlag(flag)) {
      if (eq != std::string::npos) {
        out += flag + "=" + std::string(SecretString::kMasked);
      } else {
        out += arg;
        if (i + 1 < argc) {
          out += ' ';
          out += SecretString::kMasked;
          ++i;
        }
      }
      continue;
    }
    out += arg;
  }
  return out;
}

// Progress for long work, on stderr, only when stderr is a terminal: a
// single line rewritten in place, cleared when the work is done.
class TerminalProgress final : public ops::Progress {
 public:
  ~TerminalProgress() override {
    if (shown_) std::cerr << "\r\033[K" << std::flush;
  }
  void Update(std::string_view what, int64_t done, int64_t total) override {
    std::cerr << "\r\033[K" << what << " " << done;
    if (total > 0) std::cerr << "/" << total << " (" << (done * 100 / total) << "%)";
    std::cerr << std::flush;
    shown_ = true;
  }

 private:
  bool shown_ = false;
};

// Whether argv asks for JSON output, read before (or without) a successful
// parse so that usage errors can be reported in the requested form.
bool JsonRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--output=json" || a == "-ojson") return true;
    if ((a == "--output" || a == "-o") && i + 1 < argc &&
        std::string_view(argv[i + 1]) == "json") {
      return true;
    }
  }
  return false;
}

// "crl.regenerate": the subcommands parsed so far, joined with dots.
std::string ParsedCommand(const CLI::App& root) {
  std::string out;
  const CLI::App* at = &root;
  for (;;) {
    auto parsed = at->get_subcommands();
    if (parsed.empty()) return out;
    at = parsed.front();
    out += (out.empty() ? "" : ".") + at->get_name();
  }
}

}  // namespace

ops::OpContext Environment::Context(const MutationFlags* flags) {
  ops::OpContext ctx{*db, config, *clock, logger, *keyring, actor};
  ctx.progress = progress.get();
  if (flags) {
    ctx.dry_run = flags->dry_run;
    if (!flags->wait.empty()) {
      auto d = ParseDuration(flags->wait);
      if (d.ok()) ctx.lock_wait = *d;
    }
  }
  return ctx;
}

AdminApp::AdminApp(int argc, char** argv)
    : root_(
          "certctl-admin: the certctl operator's tool. Every disaster-recovery procedure "
          "is one audited, locked, verifiable command.",
          "certctl-admin"),
      argc_(argc),
      argv_(argv),
      command_line_(MaskedCommandLine(argc, argv)) {
  // Not CLI11's version flag: --version also reports the configured
  // database server, so it is a flag read after the global options.
  root_.add_flag("--version", Make<bool>(),
                 "Show the version, the git revision, OpenSSL, libpqxx and the "
                 "PostgreSQL server");
  root_.require_subcommand(1);
  root_.fallthrough();
  root_.option_defaults()->group("Global options");
  root_.add_option(
      "--config", globals_.config_path,
      "Config file (default /etc/certctl/certctl.yaml; CERTCTL_* variables override it)");
  root_.add_flag("--dev", globals_.dev,
                 "Use the dev-mode configuration written by `certctld --dev`");
  root_.add_option("--data-dir", globals_.data_dir,
                   "Dev-mode data directory (default: $CERTCTL_DEV_DIR, else the nearest "
                   "var/dev in the current directory or above)");
  root_.add_option("--database-url", globals_.database_url,
                   "PostgreSQL URL; overrides CERTCTL_DATABASE_URL (prefer the variable: "
                   "a password here is visible to other users)");
  Choices(root_
              .add_option("--output,-o", globals_.output,
                          "Output format: text (aligned, for people) or json (one "
                          "document per run, for scripts)")
              ->capture_default_str(),
          {"text", "json"});
  root_.add_option(
      "--actor", globals_.actor,
      "Who is acting, for the audit log (default: $SUDO_USER or the login name)");
  root_.add_flag("--no-color", globals_.no_color,
                 "Never colour the text output (colour is only used on a terminal and "
                 "never when NO_COLOR is set)");
  root_
      .add_option(
          "--ca-file", globals_.ca_file,
          "Extra CA certificates (PEM) trusted for https:// requests to certctld, on top "
          "of the system store (default: the configured ca_cert_path)")
      ->type_name("FILE");
  root_
      .add_option("--timeout", globals_.timeout,
                  "Deadline for each request to certctld (e.g. 10s, 1m)")
      ->capture_default_str()
      ->check([](const std::string& v) {
        auto d = ParseDuration(v);
        return d.ok() ? std::string() : d.status().message();
      });
  root_.get_option("--timeout")->type_name("DURATION");
  root_.get_option("--config")->type_name("FILE");
  root_.get_option("--data-dir")->type_name("DIR");
  root_.get_option("--database-url")->type_name("URL");
  root_.get_option("--actor")->type_name("NAME");
  // Subcommands copy option_defaults() when they are created: their own
  // options are not global ones.
  root_.option_defaults()->group("Options");
}

OutputFormat AdminApp::output() const {
  return globals_.output == "json" ? OutputFormat::kJson : OutputFormat::kText;
}

bool AdminApp::color() const {
  return !globals_.no_color && std::getenv("NO_COLOR") == nullptr && ::isatty(1);
}

std::string AdminApp::Paint(std::string_view text, Colour colour) const {
  if (!color()) return std::string(text);
  const char* code = colour == Colour::kGreen    ? "32"
                     : colour == Colour::kYellow ? "33"
                     : colour == Colour::kRed    ? "31"
                                                 : "1";
  return std::string("\033[") + code + "m" + std::string(text) + "\033[0m";
}

std::string AdminApp::PaintVerdict(std::string_view verdict) const {
  if (verdict == "ok" || verdict == "good" || verdict == "intact") {
    return Paint(verdict, Colour::kGreen);
  }
  if (verdict == "warning") return Paint(verdict, Colour::kYellow);
  return Paint(verdict, Colour::kRed);
}

void AdminApp::Document(CLI::App* cmd, CommandDoc doc) { docs_[cmd] = std::move(doc); }

CLI::Option* AdminApp::Choices(CLI::Option* option, std::vector<std::string> values) {
  option->check(CLI::IsMember(values));
  choices_[option] = std::move(values);
  return option;
}

const std::vector<std::string>* AdminApp::ChoicesFor(const CLI::Option* option) const {
  auto it = choices_.find(option);
  return it == choices_.end() ? nullptr : &it->second;
}

CLI::Option* AdminApp::CompleteWith(CLI::Option* option, std::string kind) {
  completions_[option] = std::move(kind);
  return option;
}

const std::string* AdminApp::CompletionFor(const CLI::Option* option) const {
  auto it = completions_.find(option);
  if (it != completions_.end()) return &it->second;
  // An ISSUER argument (AddIssuerArgument) or an option taking one (type
  // name ISSUER) completes issuer ids without being registered.
  static const std::string kIssuers = kIssuerNames;
  std::string type = option->get_type_name();
  if (option->get_name() == "ISSUER" || type.rfind("ISSUER", 0) == 0) return &kIssuers;
  return nullptr;
}

const CommandDoc* AdminApp::DocFor(const CLI::App* cmd) const {
  auto it = docs_.find(cmd);
  return it == docs_.end() ? nullptr : &it->second;
}

void AdminApp::AddMutationFlags(CLI::App* cmd, MutationFlags& flags, bool locked) {
  cmd->add_flag(
      "--dry-run", flags.dry_run,
      "Print the plan (what would change, row counts, files) and change nothing");
  cmd->add_flag("--yes,-y", flags.yes,
                "Do not ask for confirmation (required when stdin is not a terminal)");
  if (!locked) return;
  cmd->add_option("--wait", flags.wait,
                  "When the operation's lock is held, wait up to this long (e.g. 30s, "
                  "5m) instead of exiting with 75")
      ->type_name("DURATION")
      ->check([](const std::string& v) {
        auto d = ParseDuration(v);
        return d.ok() ? std::string() : d.status().message();
      });
}

Result<Config> AdminApp::LoadConfiguration() {
  ConfigLoadOptions load;
  load.path = globals_.config_path;
  load.path_is_explicit = !globals_.config_path.empty();
  std::string dev_dir;
  if (globals_.dev && globals_.config_path.empty()) {
    const char* variable = std::getenv(ops::kDevDirVariable);
    auto search = ops::FindDevDataDir(globals_.data_dir, variable ? variable : "",
                                      std::filesystem::current_path().string());
    if (!search.found) return Status::Configuration(search.NotFoundMessage());
    dev_dir = *search.found;
    load.path = ops::DevConfigPath(dev_dir);
    load.path_is_explicit = true;
  }
  auto config = LoadConfig(load);
  if (!config.ok() && !dev_dir.empty()) {
    return Status::Configuration(config.status().message() +
                                 " (has `certctld --dev` been started with the data "
                                 "directory " +
                                 dev_dir + "?)");
  }
  if (config.ok() && !globals_.database_url.empty()) {
    config->database_url = SecretString(globals_.database_url);
  }
  if (config.ok()) config->dev = globals_.dev;
  return config;
}

Result<std::unique_ptr<Environment>> AdminApp::Open(const OpenOptions& options) {
  auto env = std::make_unique<Environment>();
  ASSIGN_OR_RETURN(env->config, LoadConfiguration());
  auto logger = MakeLogger("certctl-admin", LogFormat::kText, "warn");
  if (!logger.ok()) return logger.status();
  env->logger = *logger;
  auto db = Database::Open({.url = std::string(env->config.database_url.view()),
                            .pool_size = 4,
                            .application_name = "certctl-admin",
                            .connect_timeout = options.connect_timeout,
                            .connect_lazily = !options.connect});
  if (!db.ok()) {
    // Only a dev cluster that is down is certctld --dev's to start.
    auto stopped =
        db.status().code() == StatusCode::kUnavailable
            ? ops::StoppedDevCluster(std::string(env->config.database_url.view()))
            : std::nullopt;
    if (stopped) {
      return Status::Unavailable(db.status().message() + " (the dev cluster of " +
                                 *stopped +
                                 " is not running: start `certctld --dev "
                                 "--data-dir " +
                                 *stopped + "`, which owns it)");
    }
    return db.status();
  }
  env->db = std::move(db).value();
  if (options.connect && !options.allow_outdated_schema) {
    RETURN_IF_ERROR(ops::RequireCurrentSchema(*env->db));
  }
  env->keyring = std::make_unique<ops::CaKeyring>();
  env->actor = ops::Actor{globals_.actor.empty() ? InvokingUser() : globals_.actor,
                          HostName(), "certctl-admin", command_line_};
  if (::isatty(2)) env->progress = std::make_unique<TerminalProgress>();
  return env;
}

Result<net::HttpClient> AdminApp::HttpClientFor(const Config& config) const {
  net::HttpClientOptions options;
  auto timeout = ParseDuration(globals_.timeout);
  if (!timeout.ok())
    return Status::InvalidArgument("--timeout: " + timeout.status().message());
  options.timeout = *timeout;
  options.ca_file = globals_.ca_file.empty() ? config.ca_cert_path : globals_.ca_file;
  options.user_agent = std::string("certctl-admin/") + CERTCTL_VERSION;
  return net::HttpClient(options);
}

std::string AdminApp::AdminApiUrl(const Config& config) {
  auto hp = ParseHostPort(config.listen_api);
  if (!hp.ok()) return "https://" + config.listen_api;
  // A wildcard listener is reached over loopback.
  std::string host = hp->host == "0.0.0.0" ? "127.0.0.1"
                     : hp->host == "::"    ? "::1"
                                           : hp->host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "https://" + host + ":" + std::to_string(hp->port);
}

Status AdminApp::Confirm(const MutationFlags& flags, const std::string& question) {
  if (flags.dry_run || flags.yes) return Status::Ok();
  if (!::isatty(0)) {
    return Status::InvalidArgument(question +
                                   " -- refusing without --yes because stdin is not a "
                                   "terminal; nothing was changed");
  }
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return Status::Ok();
  return Status::InvalidArgument("not confirmed; nothing was changed");
}

void AdminApp::Finish(const ops::OpReport& report, const Status& status,
                      const ops::ReportJsonParts& json,
                      const std::function<void(std::ostream&)>& text) {
  if (output() == OutputFormat::kJson) {
    // An operation refused before it named itself is named after the command.
    ops::OpReport named = report;
    if (named.operation.empty()) named.operation = operation_;
    std::cout << ops::ReportJson(named, status, json).dump(2) << "\n";
  } else {
    text(std::cout);
    if (!status.ok()) {
      std::cerr << "certctl-admin: " << (report.dry_run ? "(dry run) " : "")
                << status.message() << "\n";
    }
  }
  if (!status.ok()) {
    exit_code_ = ExitCodeFor(status);
  } else {
    exit_code_ = report.has_errors() ? kExitFindings : kExitOk;
  }
}

void AdminApp::Fail(const Status& status) {
  if (output() == OutputFormat::kJson) {
    ops::OpReport report;
    report.operation = operation_;
    std::cout << ops::ReportJson(report, status, {}).dump(2) << "\n";
  }
  std::cerr << "certctl-admin: " << status.message() << "\n";
  exit_code_ = ExitCodeFor(status);
}

int AdminApp::UsageError(const std::string& message, const std::string& operation) {
  // A script asked for JSON: it gets its one document here too.
  if (JsonRequested(argc_, argv_)) {
    ops::OpReport report;
    report.operation = operation;
    std::cout << ops::ReportJson(report, Status::InvalidArgument(message), {}).dump(2)
              << "\n";
  }
  std::cerr << "certctl-admin: " << message << "\n";
  return kExitUsage;
}

int AdminApp::Run() {
  root_.footer(
      "Run `certctl-admin help COMMAND` (or COMMAND --help) for a command's options.");
  // Unknown commands and options first, named with the nearest known ones:
  // CLI11 would let `db nope --help` print db's help and call `ca` "A
  // subcommand is required".
  CommandPath path;
  std::vector<std::string> args(argv_ + 1, argv_ + argc_);
  if (std::find(args.begin(), args.end(), "--version") != args.end()) {
    root_.require_subcommand(0, 1);
  }
  Status words = CheckCommandLine(root_, args, path);
  if (!words.ok()) return UsageError(words.message(), path.Dotted());
  try {
    root_.parse(argc_, argv_);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return root_.exit(e);  // --help, --version
    // "A subcommand is required": say which ones there are.
    if (dynamic_cast<const CLI::RequiredError*>(&e) && IsGroup(path.chain.back())) {
      return UsageError(MissingCommand(path), path.Dotted());
    }
    return UsageError(e.what(), ParsedCommand(root_));
  }
  if (root_.get_option("--version")->count() > 0) {
    auto info = ops::CurrentVersion();
    info.server = ops::DescribeServer(LoadConfiguration(), std::chrono::seconds(2));
    std::cout << ops::FormatVersion("certctl-admin", info);
    return kExitOk;
  }
  if (action_) {
    try {
      action_();
    } catch (const std::exception& e) {
      // Nothing below throws by design; this keeps a bug from becoming a
      // crash without an exit code scripts can read.
      Fail(Status::Internal(std::string("unexpected error: ") + e.what()));
    }
  }
  return exit_code_;
}

void AddIssuerArgument(CLI::App* cmd, IssuerChoice& choice, bool with_all,
                       const std::string& all_help) {
  auto* issuer = cmd->add_option("ISSUER", choice.issuer, "The issuer id, e.g. iss-local")
                     ->type_name("");
  if (!with_all) {
    issuer->required();
    return;
  }
  cmd->add_flag("--all", choice.all, all_help)->excludes(issuer);
}

CombinedRun CombineRuns(const std::string& operation, const std::string& target,
                        const std::vector<PartRun>& parts, const std::string& list_key) {
  CombinedRun out;
  out.report.operation = operation;
  out.report.target = target;
  out.json.data[list_key] = nlohmann::json::array();
  for (const auto& part : parts) {
    const ops::OpReport& p = *part.report;
    out.report.dry_run = out.report.dry_run || p.dry_run;
    out.report.plan.insert(out.report.plan.end(), p.plan.begin(), p.plan.end());
    out.report.steps.insert(out.report.steps.end(), p.steps.begin(), p.steps.end());
    out.report.findings.insert(out.report.findings.end(), p.findings.begin(),
                               p.findings.end());
    if (!part.json.before.empty()) out.json.before[p.target] = part.json.before;
    if (!part.json.after.empty()) out.json.after[p.target] = part.json.after;
    nlohmann::json d =
        part.json.data.is_object() ? part.json.data : nlohmann::json::object();
    d["ok"] = ops::ReportOk(p, part.status);
    d["error"] = ops::ErrorJson(part.status);
    out.json.data[list_key].push_back(d);
    out.report.duration += p.duration;
    if (out.status.ok() && !part.status.ok()) out.status = part.status;
  }
  return out;
}

}  // namespace certctl::admin
