// Compiled to nothing unless CERTCTL_FAILPOINTS is ON (see the header).
#include "certctl/util/fail_point.h"

#if CERTCTL_FAILPOINTS_ENABLED

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "certctl/util/exit_codes.h"

namespace certctl {
namespace {

enum class Action { kCrash, kError, kPause };

struct Arming {
  std::map<std::string, Action, std::less<>> armed;
  std::string problem;  // a bad entry in CERTCTL_FAILPOINTS, if any
};

bool Known(std::string_view name) {
  for (const auto& point : kFailPoints) {
    if (point.name == name) return true;
  }
  return false;
}

Arming Parse(std::string_view spec) {
  Arming out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? "" : spec.substr(comma + 1);
    if (entry.empty()) continue;
    size_t eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    std::string_view action =
        eq == std::string_view::npos ? "crash" : entry.substr(eq + 1);
    if (!Known(name)) {
      out.problem = "unknown fail point \"" + std::string(name) + "\"";
    } else if (action == "crash") {
      out.armed[std::string(name)] = Action::kCrash;
    } else if (action == "error") {
      out.armed[std::string(name)] = Action::kError;
    } else if (action == "pause") {
      out.armed[std::string(name)] = Action::kPause;
    } else {
      out.problem = "unknown fail point action \"" + std::string(action) + "\"";
    }
  }
  return out;
}

const Arming& Armed() {
  static const Arming arming = [] {
    const char* spec = std::getenv("CERTCTL_FAILPOINTS");
    return Parse(spec ? spec : "");
  }();
  return arming;
}

// Async-signal-safe and unbuffered: the line must be out before SIGKILL.
void Say(std::string_view name, std::string_view what) {
  std::string line =
      "certctl: fail point " + std::string(name) + ": " + std::string(what) + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

Status HitFailPoint(FailPoint point) {
  const Arming& arming = Armed();
  if (!arming.problem.empty()) {
    Say("CERTCTL_FAILPOINTS", arming.problem);
    std::_Exit(kExitConfig);
  }
  if (point.none() || arming.armed.empty()) return Status::Ok();
  auto it = arming.armed.find(point.name());
  if (it == arming.armed.end()) return Status::Ok();
  switch (it->second) {
    case Action::kCrash:
      Say(point.name(), "crash");
      ::raise(SIGKILL);
      std::_Exit(137);  // not reached
    case Action::kError:
      Say(point.name(), "error");
      return Status::Internal("fail point " + std::string(point.name()));
    case Action::kPause:
      Say(point.name(), "pause");
      ::raise(SIGSTOP);
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace certctl

#endif  // CERTCTL_FAILPOINTS_ENABLED
