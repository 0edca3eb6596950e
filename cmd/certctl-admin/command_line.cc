#include "command_line.h"

#include <algorithm>
#include <cctype>

namespace certctl::admin {
namespace {

// Optimal string alignment distance (Levenshtein plus adjacent
// transpositions). Hand-written: neither CLI11 nor the standard library has
// one, and a dozen lines do not warrant a dependency.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// Subcommands of `app`, hidden ones included (they parse like any other).
std::vector<const CLI::App*> Subcommands(const CLI::App* app) {
  return app->get_subcommands(
      [](const CLI::App* sub) { return !sub->get_name().empty(); });
}

// The names shown in a suggestion: visible subcommands only.
std::vector<std::string> VisibleNames(const CLI::App* app) {
  std::vector<std::string> out;
  for (const CLI::App* sub : Subcommands(app)) {
    if (!sub->get_group().empty()) out.push_back(sub->get_name());
  }
  return out;
}

bool HasPositionals(const CLI::App* app) {
  return !app->get_options([](const CLI::Option* o) { return !o->nonpositional(); })
              .empty();
}

// "--dry-run" or "-y": the option of the innermost command that has it
// (CLI11 passes an option it does not know up to the parent: fallthrough).
const CLI::Option* FindOption(const CommandPath& path, const std::string& spelling) {
  for (auto it = path.chain.rbegin(); it != path.chain.rend(); ++it) {
    for (const CLI::Option* o : (*it)->get_options()) {
      if (!o->nonpositional()) continue;
      for (const auto& l : o->get_lnames()) {
        if ("--" + l == spelling) return o;
      }
      for (const auto& s : o->get_snames()) {
        if ("-" + s == spelling) return o;
      }
    }
  }
  return nullptr;
}

std::vector<std::string> LongOptions(const CommandPath& path) {
  std::vector<std::string> out;
  for (const CLI::App* app : path.chain) {
    for (const CLI::Option* o : app->get_options()) {
      if (!o->nonpositional()) continue;
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
    }
  }
  return out;
}

Status UnknownCommand(const CommandPath& path, const std::string& word) {
  const CLI::App* at = path.chain.back();
  std::vector<std::string> names = VisibleNames(at);
  std::string message = "unknown command \"" + word + "\" for `" + path.Spaced() + "`";
  std::string near = Nearest(word, names);
  if (!near.empty()) message += " (did you mean `" + path.Spaced() + " " + near + "`?)";
  return Status::InvalidArgument(message + "; its commands: " + Join(names));
}

Status UnknownOption(const CommandPath& path, const std::string& spelling) {
  std::string message = "unknown option " + spelling + " for `" + path.Spaced() + "`";
  // A short option is one letter: only a long one is worth guessing at.
  std::string near =
      spelling.rfind("--", 0) == 0 ? Nearest(spelling, LongOptions(path)) : "";
  if (!near.empty()) message += " (did you mean " + near + "?)";
  return Status::InvalidArgument(message + "; see `" + path.Spaced() + " --help`");
}

bool TakesValue(const CLI::Option* o) { return o->get_expected_max() != 0; }

// One word of the command line; `skip_next` when it is an option whose value
// is the next word.
Status CheckWord(const std::string& word, CommandPath& path, bool& skip_next) {
  skip_next = false;
  if (word.size() > 2 && word.rfind("--", 0) == 0) {
    size_t eq = word.find('=');
    std::string spelling = word.substr(0, eq);
    const CLI::Option* o = FindOption(path, spelling);
    if (!o) return UnknownOption(path, spelling);
    skip_next = TakesValue(o) && eq == std::string::npos;
    return Status::Ok();
  }
  if (word.size() > 1 && word[0] == '-' &&
      !std::isdigit(static_cast<unsigned char>(word[1]))) {
    const CLI::Option* o = FindOption(path, word.substr(0, 2));
    if (!o) return UnknownOption(path, word.substr(0, 2));
    skip_next = TakesValue(o) && word.size() == 2;
    return Status::Ok();
  }
  const CLI::App* at = path.chain.back();
  for (const CLI::App* sub : Subcommands(at)) {
    if (sub->get_name() == word) {
      path.chain.push_back(sub);
      return Status::Ok();
    }
  }
  // A word where only a subcommand may stand.
  if (IsGroup(at)) return UnknownCommand(path, word);
  return Status::Ok();  // a positional argument: CLI11 checks it
}

}  // namespace

std::string Nearest(std::string_view word, const std::vector<std::string>& candidates) {
  auto bare = [](std::string_view s) {
    while (!s.empty() && s.front() == '-') s.remove_prefix(1);
    return s;
  };
  std::string_view w = bare(word);
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& candidate : candidates) {
    std::string_view c = bare(candidate);
    size_t d = EditDistance(w, c);
    // A prefix either way is as good as one edit: "ca" for "cache".
    bool prefix = w.size() >= 2 && (c.rfind(w, 0) == 0 || w.rfind(c, 0) == 0);
    if (prefix) d = std::min<size_t>(d, 1);
    size_t allowed = std::max<size_t>(1, std::max(w.size(), c.size()) / 3);
    if (d <= allowed && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

bool IsGroup(const CLI::App* app) {
  return !Subcommands(app).empty() && !HasPositionals(app);
}

std::string MissingCommand(const CommandPath& path) {
  return "`" + path.Spaced() +
         "` needs one of its commands: " + Join(VisibleNames(path.chain.back())) +
         " (see `" + path.Spaced() + " --help`)";
}

std::string CommandPath::Spaced() const {
  std::string out;
  for (const CLI::App* app : chain) out += (out.empty() ? "" : " ") + app->get_name();
  return out;
}

std::string CommandPath::Dotted() const {
  std::string out;
  for (size_t i = 1; i < chain.size(); ++i) {
    out += (out.empty() ? "" : ".") + chain[i]->get_name();
  }
  return out;
}

Status CheckCommandLine(const CLI::App& root, const std::vector<std::string>& args,
                        CommandPath& path) {
  path.chain = {&root};
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    bool skip_next = false;
    RETURN_IF_ERROR(CheckWord(args[i], path, skip_next));
    if (skip_next) ++i;
  }
  return Status::Ok();
}

Result<CommandPath> FindCommand(const CLI::App& root,
                                const std::vector<std::string>& words) {
  CommandPath path{{&root}};
  for (const auto& word : words) {
    const CLI::App* at = path.chain.back();
    auto subs = Subcommands(at);
    auto it = std::find_if(subs.begin(), subs.end(),
                           [&](const CLI::App* s) { return s->get_name() == word; });
    if (it == subs.end()) {
      if (subs.empty()) {
        return Status::InvalidArgument("`" + path.Spaced() + "` has no subcommands (\"" +
                                       word + "\")");
      }
      return UnknownCommand(path, word);
    }
    path.chain.push_back(*it);
  }
  return path;
}

}  // namespace certctl::admin
