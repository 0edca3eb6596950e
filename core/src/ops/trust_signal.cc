// `trust reload --signal`: SIGHUP to certctld, and the record of its latest
// SIGHUP reload (certctl/ops/trust.h SignalReload) that tells the outcome.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "certctl/ops/trust_json.h"
#include "certctl/util/files.h"
#include "ops/trust_internal.h"

namespace certctl::ops {
namespace {

std::optional<TrustProblem> ProblemNamed(const std::string& name) {
  for (auto p : {TrustProblem::kUnreadable, TrustProblem::kGarbage, TrustProblem::kEmpty,
                 TrustProblem::kExpired, TrustProblem::kNotYetValid}) {
    if (TrustProblemName(p) == name) return p;
  }
  return std::nullopt;
}

StatusCode CodeNamed(const std::string& name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    if (StatusCodeName(static_cast<StatusCode>(c)) == name) {
      return static_cast<StatusCode>(c);
    }
  }
  return StatusCode::kInternal;
}

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch())
      .count();
}

// The pid in certctld's pid file.
Result<int> DaemonPid(const Config& config) {
  if (config.pid_file.empty()) {
    return Status::Configuration(
        "--signal needs pid_file (CERTCTL_PID_FILE) in the configuration");
  }
  auto text = ReadFile(config.pid_file);
  if (!text.ok()) {
    return Status::Unavailable("cannot read certctld's pid file " + config.pid_file +
                               ": " + text.status().message() +
                               " (is certctld running?)");
  }
  int pid = std::atoi(text->c_str());
  if (pid <= 1)
    return Status::Unavailable("pid file " + config.pid_file + " holds no pid");
  return pid;
}

Status SendHangup(int pid) {
  if (::kill(pid, SIGHUP) == 0) return Status::Ok();
  int err = errno;
  if (err == EPERM) {
    return Status::PermissionDenied("not allowed to signal certctld (pid " +
                                    std::to_string(pid) + "): run as its user or root");
  }
  return Status::Unavailable("cannot signal certctld (pid " + std::to_string(pid) +
                             "): " + std::strerror(err));
}

// Waits for the record of a reload by `pid` that began at or after `sent`.
// (The system clock, not ctx.clock: it is compared with certctld's.)
Result<SignalReload> AwaitRecord(const std::string& path, int pid, TimePoint sent,
                                 std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto record = ReadSignalReload(path);
    if (record.ok() && record->pid == pid && record->started_at >= sent) return record;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("sent SIGHUP to certctld (pid " + std::to_string(pid) +
                             "), but it reported no " + "reload in " + path + " within " +
                             std::to_string(wait.count() / 1000) +
                             "s (an older certctld, or a stuck one?); see its log");
}

// The record's outcome for `name` ("": every bundle) as the result.
Status Outcome(const std::string& name, const SignalReload& r, TrustReload& result,
               OpReport& report) {
  std::string who = "certctld (pid " + std::to_string(r.pid) + ")";
  if (!r.status.ok()) return r.status.WithContext(who + " reloaded nothing");
  for (const auto& b : r.bundles) {
    if (!name.empty() && b.name != name) continue;
    result.bundles.push_back(b);
    if (b.reloaded()) {
      report.steps.push_back(who + " reloaded " + b.name + " (" +
                             std::to_string(b.certificates) + " certificates)");
    } else {
      report.AddFinding("error", "trust." + std::string(TrustProblemName(*b.problem)),
                        b.name, b.message + "; the previous bundle stays in place");
    }
  }
  if (!r.tls_error.empty()) {
    report.AddFinding("warning", "tls.refused", who,
                      "kept its TLS certificate: " + r.tls_error);
  }
  if (!name.empty() && result.bundles.empty()) {
    return Status::NotFound(who + " has no trust bundle named \"" + name + "\"");
  }
  if (result.bundles.empty()) internal::NoTrustBundles(who, report);
  return result.refused() ? Status::FailedPrecondition(result.RefusalMessage())
                          : Status::Ok();
}

}  // namespace

namespace internal {

std::string TrustAnchorsSource(const Config& config) {
  return "trust_anchors in " + (config.source_path.empty()
                                    ? std::string("the config file")
                                    : config.source_path);
}

void NoTrustBundles(const std::string& where, OpReport& report) {
  report.AddFinding("warning", "trust.none_configured", "trust_anchors",
                    "no trust bundles are configured (" + where + "): nothing to reload");
}

Status ReloadBySignal(OpContext& ctx, const TrustReloadRequest& request,
                      TrustReload& result, OpReport& report) {
  ASSIGN_OR_RETURN(int pid, DaemonPid(ctx.config));
  std::string path = SignalReloadPath(ctx.config.pid_file);
  TimePoint sent = std::chrono::system_clock::now();
  RETURN_IF_ERROR(SendHangup(pid));
  report.steps.push_back("sent SIGHUP to certctld (pid " + std::to_string(pid) + ")");
  ASSIGN_OR_RETURN(SignalReload record,
                   AwaitRecord(path, pid, sent, request.signal_wait));
  return Outcome(request.name, record, result, report);
}

std::optional<TrustBundleReloaded> BundleFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  TrustBundleReloaded b;
  b.name = j.value("name", "");
  b.path = j.value("path", "");
  if (j.contains("problem") && j["problem"].is_string()) {
    b.problem =
        ProblemNamed(j["problem"].get<std::string>()).value_or(TrustProblem::kGarbage);
  } else if (!j.value("reloaded", true)) {
    b.problem = TrustProblem::kGarbage;
  }
  b.message = j.value("message", "");
  b.certificates = j.value("certificates", int64_t{0});
  b.fingerprint = j.value("fingerprint", "");
  b.previous_fingerprint = j.value("previous_fingerprint", "");
  return b;
}

}  // namespace internal

std::string SignalReloadPath(const std::string& pid_file) { return pid_file + ".reload"; }

Status WriteSignalReload(const std::string& path, const SignalReload& reload) {
  nlohmann::json bundles = nlohmann::json::array();
  for (const auto& b : reload.bundles) bundles.push_back(ToJson(b));
  nlohmann::json j = {
      {"pid", reload.pid},
      {"started_at_us", Micros(reload.started_at)},
      {"error", reload.status.ok()
                    ? nlohmann::json(nullptr)
                    : nlohmann::json{{"code", StatusCodeName(reload.status.code())},
                                     {"message", reload.status.message()}}},
      {"bundles", bundles},
      {"tls_error", reload.tls_error}};
  return WriteFileAtomic(path, j.dump() + "\n", {.mode = 0644, .keep_backup = false});
}

Result<SignalReload> ReadSignalReload(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("pid") || !j["pid"].is_number_integer() ||
      !j.contains("started_at_us") || !j["started_at_us"].is_number_integer()) {
    return Status::Corruption(path + " is not a reload record");
  }
  SignalReload r;
  r.pid = j["pid"].get<int>();
  r.started_at = TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::microseconds(j["started_at_us"].get<int64_t>())));
  const nlohmann::json& error = j.value("error", nlohmann::json(nullptr));
  if (error.is_object()) {
    r.status = Status(CodeNamed(error.value("code", "")), error.value("message", ""));
  }
  if (j.contains("bundles") && j["bundles"].is_array()) {
    for (const auto& b : j["bundles"]) {
      if (auto bundle = internal::BundleFromJson(b)) r.bundles.push_back(*bundle);
    }
  }
  r.tls_error = j.value("tls_error", "");
  return r;
}

}  // namespace certctl::ops
