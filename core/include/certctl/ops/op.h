// The runbook procedures' common frame: what an operation gets (OpContext)
// and what it gives back (OpReport).
//
// A procedure exists once, in core/ops, and both certctld and certctl-admin
// call it. Operations never print: the CLI renders the report as text or
// JSON, the daemon logs it. Every mutating operation runs inside
// RunMutation(), which writes the start and end audit events, takes the
// operation's advisory lock(s), and honours dry-run.
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>  // MutationSpec::parameters (the audit event's)
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "certctl/config/config.h"
#include "certctl/ops/keyring.h"
#include "certctl/store/database.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl::ops {

// Who is acting, for audit events and lock records.
struct Actor {
  std::string name;          // person or key name ("alice", "api:ci-bot", "certctld")
  std::string host;          // this machine
  std::string program;       // "certctl-admin" or "certctld"
  std::string command_line;  // with secrets masked; empty for daemon work
};

// Optional progress reporting for long work; the CLI shows it on a TTY.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void Update(std::string_view what, int64_t done, int64_t total) = 0;
};

struct OpContext {
  Database& db;
  const Config& config;
  const Clock& clock;
  std::shared_ptr<spdlog::logger> logger;
  CaKeyring& keyring;
  Actor actor;
  bool dry_run = false;                    // plan only; change nothing
  std::chrono::milliseconds lock_wait{0};  // how long to wait for a held lock
  Progress* progress = nullptr;            // may be null
};

struct Finding {
  std::string severity;  // "error" or "warning"
  std::string code;      // stable, e.g. "crl.stale"
  std::string subject;   // what it is about, e.g. "iss-local/g1"
  std::string message;   // for people
};

// What every operation reports beside its typed result (Result<T>, the one
// error channel): what it is, what it planned and did, what it found wrong,
// and how long it took. Operations fill it; the CLI renders it with the
// result (certctl/ops/op_json.h), the daemon logs its steps.
struct OpReport {
  std::string operation;  // "crl.regenerate"
  std::string target;     // "iss-local"
  bool dry_run = false;
  std::vector<std::string> plan;   // what will (or, dry run, would) change
  std::vector<std::string> steps;  // what was done, in order
  std::vector<Finding> findings;   // problems a check found
  std::chrono::milliseconds duration{0};

  bool has_errors() const;  // any finding with severity "error"
  void AddFinding(std::string severity, std::string code, std::string subject,
                  std::string message);
};

// What a mutating operation touches.
struct MutationSpec {
  std::string action;  // audit action, e.g. "crl.regenerate"
  std::string target;  // audit target, e.g. "iss-local"
  nlohmann::json parameters = nlohmann::json::object();
  std::vector<std::string> locks;  // advisory lock names, taken in this order
  // Scheduler runs in certctld record their own evidence (e.g. a
  // crl_generation_events row) and pass false; every command passes true.
  bool audit = true;
};

// The frame of every mutating operation:
//  1. dry run: calls `body` with dry_run set and returns; no audit, no lock;
//  2. writes a "started" audit event (committed at once) unless !spec.audit;
//  3. takes each lock (waiting up to ctx.lock_wait): Busy naming the holder;
//  4. calls `body`;
//  5. writes a "succeeded" or "failed" audit event with the duration and the
//     error, also when a lock was busy or the body failed; a body that
//     returns OK but added an error finding (the CLI exits 1) is "failed"
//     too, with the findings' messages as the detail.
// Fills report.operation, target, dry_run and duration and returns the
// body's status (or the lock's, or the audit's).
Status RunMutation(OpContext& ctx, const MutationSpec& spec, OpReport& report,
                   const std::function<Status()>& body);

template <typename T>
struct IsResult : std::false_type {};
template <typename T>
struct IsResult<Result<T>> : std::true_type {};

// The same frame for a body that returns a typed result: the audit outcome
// follows the body's Result, and that Result is returned, unless taking a
// lock or writing the end event failed (then that error).
template <typename Body>
requires IsResult<std::invoke_result_t<Body&>>::value std::invoke_result_t<Body&>
RunMutation(OpContext& ctx, const MutationSpec& spec, OpReport& report, Body&& body) {
  std::optional<std::invoke_result_t<Body&>> result;
  Status s = RunMutation(ctx, spec, report, std::function<Status()>([&]() -> Status {
                           result.emplace(body());
                           return result->status();
                         }));
  if (!s.ok()) return s;
  return std::move(*result);
}

// Writes one audit event outside RunMutation (e.g. inside a revocation's own
// transaction the caller uses AuditRepo directly instead).
Status WriteAuditEvent(OpContext& ctx, const std::string& action,
                       const std::string& target, const std::string& outcome_detail,
                       bool succeeded,
                       const nlohmann::json& parameters = nlohmann::json::object());

// Lock names shared by the CLI and the daemon's schedulers.
std::string CrlLockName(const std::string& issuer);  // "crl:<issuer>"
std::string OcspResponderLockName(
    const std::string& issuer);                            // "ocsp-responder:<issuer>"
std::string OcspCacheLockName(const std::string& issuer);  // "ocsp-cache:<issuer>"
std::string CaLockName(const std::string& issuer);         // "ca:<issuer>"

}  // namespace certctl::ops
