#include "app.h"

#include <unistd.h>

#include <cstdlib>
#include <iomanip>
#include <iostream>

#include "certctl/log/logging.h"
#include "certctl/ops/dev_environment.h"
#include "certctl/store/migrator.h"
#include "certctl/util/exit_codes.h"
#include "certctl/util/process.h"
#include "certctl/util/time_format.h"

namespace certctl::admin {
namespace {

// Flags whose values are secrets or may hold one (a database URL's password).
bool IsSensitiveFlag(std::string_view flag) {
  for (std::string_view word : {"key", "token", "password", "secret", "database-url"}) {
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

}  // namespace

ops::OpContext Environment::Context(const MutationFlags* flags) {
  ops::OpContext ctx{*db, config, *clock, logger, *keyring, actor};
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
    : root_("certctl-admin: the certctl operator's tool. Every disaster-recovery procedure "
            "is one audited, locked, verifiable command.",
            "certctl-admin"),
      argc_(argc),
      argv_(argv),
      command_line_(MaskedCommandLine(argc, argv)) {
  root_.set_version_flag("--version", std::string("certctl-admin ") + CERTCTL_VERSION);
  root_.require_subcommand(1);
  root_.fallthrough();
  root_.option_defaults()->group("Global options");
  root_.add_option("--config", globals_.config_path,
                   "Config file (default /etc/certctl/certctl.yaml; CERTCTL_* variables "
                   "override it)");
  root_.add_flag("--dev", globals_.dev,
                 "Use the dev-mode configuration written by `certctld --dev`");
  root_.add_option("--data-dir", globals_.data_dir,
                   "Dev-mode data directory (default ./var/dev)");
  root_.add_option("--database-url", globals_.database_url,
                   "PostgreSQL URL; overrides CERTCTL_DATABASE_URL (prefer the variable: "
                   "a password here is visible to other users)");
  root_.add_option("--output,-o", globals_.output, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  root_.add_option("--actor", globals_.actor,
                   "Who is acting, for the audit log (default: $SUDO_USER or the login name)");
  root_.add_flag("--no-color", globals_.no_color, "Never colour the text output");
}

OutputFormat AdminApp::output() const {
  return globals_.output == "json" ? OutputFormat::kJson : OutputFormat::kText;
}

bool AdminApp::color() const {
  return !globals_.no_color && std::getenv("NO_COLOR") == nullptr && ::isatty(1);
}

void AdminApp::Document(CLI::App* cmd, CommandDoc doc) { docs_[cmd] = std::move(doc); }

const CommandDoc* AdminApp::DocFor(const CLI::App* cmd) const {
  auto it = docs_.find(cmd);
  return it == docs_.end() ? nullptr : &it->second;
}

void AdminApp::AddMutationFlags(CLI::App* cmd, MutationFlags& flags) {
  cmd->add_flag("--dry-run", flags.dry_run, "Print the plan and change nothing");
  cmd->add_flag("--yes,-y", flags.yes,
                "Do not ask for confirmation (required when stdin is not a terminal)");
  cmd->add_option("--wait", flags.wait,
                  "When the operation's lock is held, wait up to this long (e.g. 30s, 5m) "
                  "instead of exiting with 75")
      ->check([](const std::string& v) {
        auto d = ParseDuration(v);
        return d.ok() ? std::string() : d.status().message();
      });
}

Result<Config> AdminApp::LoadConfiguration() {
  ConfigLoadOptions load;
  load.path = globals_.config_path;
  load.path_is_explicit = !globals_.config_path.empty();
  if (globals_.dev && globals_.config_path.empty()) {
    std::string dir = globals_.data_dir.empty() ? ops::kDefaultDevDataDir : globals_.data_dir;
    load.path = ops::DevConfigPath(dir);
    load.path_is_explicit = true;
  }
  auto config = LoadConfig(load);
  if (!config.ok() && globals_.dev) {
    return Status::Configuration(config.status().message() +
                                 " (has `certctld --dev` been started in this directory?)");
  }
  if (config.ok() && !globals_.database_url.empty()) {
    config->database_url = SecretString(globals_.database_url);
  }
  if (config.ok()) config->dev = globals_.dev;
  return config;
}

Result<std::unique_ptr<Environment>> AdminApp::Open(bool allow_outdated_schema) {
  auto env = std::make_unique<Environment>();
  ASSIGN_OR_RETURN(env->config, LoadConfiguration());
  auto logger = MakeLogger("certctl-admin", LogFormat::kText, "warn");
  if (!logger.ok()) return logger.status();
  env->logger = *logger;
  auto db = Database::Open({.url = std::string(env->config.database_url.view()),
                            .pool_size = 4,
                            .application_name = "certctl-admin"});
  if (!db.ok()) {
    if (globals_.dev && db.status().code() == StatusCode::kUnavailable) {
      return Status::Unavailable(db.status().message() +
                                 " (is `certctld --dev` running? it owns the dev database)");
    }
    return db.status();
  }
  env->db = std::move(db).value();
  if (!allow_outdated_schema) RETURN_IF_ERROR(RequireCurrentSchema(*env->db));
  env->keyring = std::make_unique<ops::CaKeyring>();
  env->actor = ops::Actor{globals_.actor.empty() ? InvokingUser() : globals_.actor, HostName(),
                          "certctl-admin", command_line_};
  return env;
}

Status AdminApp::Confirm(const MutationFlags& flags, const std::string& question) {
  if (flags.dry_run || flags.yes) return Status::Ok();
  if (!::isatty(0)) {
    return Status::InvalidArgument(question + " -- refusing without --yes because stdin is "
                                   "not a terminal; nothing was changed");
  }
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return Status::Ok();
  return Status::InvalidArgument("not confirmed; nothing was changed");
}

void AdminApp::Finish(const ops::OpReport& report,
                      const std::function<void(const ops::OpReport&, std::ostream&)>& text) {
  if (output() == OutputFormat::kJson) {
    std::cout << report.ToJson().dump(2) << "\n";
  } else {
    text(report, std::cout);
    if (!report.status.ok()) {
      std::cerr << "certctl-admin: " << (report.dry_run ? "(dry run) " : "")
                << report.status.message() << "\n";
    }
  }
  if (!report.status.ok()) {
    exit_code_ = ExitCodeFor(report.status);
  } else {
    exit_code_ = report.has_errors() ? kExitFindings : kExitOk;
  }
}

void AdminApp::Fail(const Status& status) {
  if (output() == OutputFormat::kJson) {
    nlohmann::json j = {{"ok", false},
                        {"error",
                         {{"code", std::string(StatusCodeName(status.code()))},
                          {"message", status.message()}}}};
    std::cout << j.dump(2) << "\n";
  }
  std::cerr << "certctl-admin: " << status.message() << "\n";
  exit_code_ = ExitCodeFor(status);
}

int AdminApp::Run() {
  try {
    root_.parse(argc_, argv_);
  } catch (const CLI::ParseError& e) {
    int rc = root_.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (action_) action_();
  return exit_code_;
}

void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields,
                 int indent) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, k.size());
  for (const auto& [k, v] : fields) {
    out << std::string(indent, ' ') << std::left << std::setw(static_cast<int>(width + 2))
        << (k + ":") << v << "\n";
  }
}

}  // namespace certctl::admin
