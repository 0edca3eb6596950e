// CheckRestore: the phases of `db restore-check` in order, each timed, and
// the scratch database and directory dropped afterwards whatever happened.
#include "certctl/ops/restore_check.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>

#include "certctl/config/config.h"
#include "certctl/util/encoding.h"
#include "certctl/util/interrupt.h"
#include "ops/restore_check_internal.h"
#include "store/migrator.h"

namespace certctl::ops {
namespace {

using internal::Scratch;
namespace fs = std::filesystem;

constexpr char kNamePrefix[] = "certctl_restore_check_";
constexpr int kPhaseCount = 7;  // prepare ... live; cleanup is not shown

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t);
}

int ErrorCount(const OpReport& r) {
  int n = 0;
  for (const auto& f : r.findings) n += f.severity == "error";
  return n;
}

// Everything one run creates, so that cleanup knows what to drop.
struct Run {
  OpContext& ctx;
  const RestoreCheckOptions& options;
  RestoreCheck& result;
  OpReport& report;
  ConnInfo admin;  // where CREATE/DROP DATABASE run
  Scratch scratch;
  std::string reference_name;
  std::unique_ptr<Database> reference;
  std::string dir;
  std::string dump;  // the file or directory restored
  internal::DumpFormat format = internal::DumpFormat::kCustom;
  bool created = false, reference_created = false;
  bool stopped = false;  // a phase found the restore unusable: skip the rest
  Status interrupted;    // SIGINT or SIGTERM arrived (certctl/util/interrupt.h)
  int phase_index = 0;

  // Runs one phase: its time, and its outcome from the findings it added. A
  // failure of the phase itself is an error finding, or with `fatal` the
  // run's error (returned).
  void Phase(const std::string& name, const std::function<Status()>& body) {
    (void)RunPhase(name, body, false);
  }
  // A phase without which nothing else can run: its failure is returned.
  Status FatalPhase(const std::string& name, const std::function<Status()>& body) {
    return RunPhase(name, body, true);
  }
  Status RunPhase(const std::string& name, const std::function<Status()>& body,
                  bool fatal) {
    ++phase_index;
    if (interrupted.ok())
      interrupted = CheckInterrupted("restore-check's " + name + " phase");
    if (!interrupted.ok()) stopped = true;  // cleanup runs, then the run fails
    if (stopped) {
      result.phases.push_back({name, "skipped", {}});
      return Status::Ok();
    }
    if (ctx.progress) {
      ctx.progress->Update("restore-check: " + name, phase_index, kPhaseCount);
    }
    size_t before = report.findings.size();
    int errors_before = ErrorCount(report);
    auto started = std::chrono::steady_clock::now();
    Status s = body();
    if (!s.ok() && !fatal) {
      report.AddFinding("error", "restore.phase_failed", name,
                        "the " + name + " phase could not complete: " + s.message());
    }
    std::string outcome = "ok";
    if (!s.ok() || ErrorCount(report) > errors_before) {
      outcome = "error";
    } else if (report.findings.size() > before) {
      outcome = "warning";
    }
    result.phases.push_back({name, outcome, Since(started)});
    return fatal ? s : Status::Ok();
  }
};

Status CheckOptions(const RestoreCheckOptions& o) {
  if (o.dump_path.empty() == o.from_database.empty()) {
    return Status::InvalidArgument(
        "give exactly one of --dump FILE and --from-database URL");
  }
  if (o.compare_live && !o.http) {
    return Status::InvalidArgument("--compare-live needs an HTTP client");
  }
  return Status::Ok();
}

Result<std::string> NewScratchName() {
  ASSIGN_OR_RETURN(std::string random, RandomBytes(6));
  return kNamePrefix + HexEncode(random);
}

// Where the scratch database goes, refusing the live database.
Status PlanScratch(Run& run, const ConnInfo& live) {
  ASSIGN_OR_RETURN(internal::ScratchPlan plan,
                   internal::PlanScratchDatabase(live, run.options.scratch_url,
                                                 kNamePrefix, "a restore check"));
  run.scratch.conninfo = plan.conninfo;
  run.admin = plan.admin;
  ASSIGN_OR_RETURN(run.reference_name, NewScratchName());
  run.reference_name += "_ref";
  run.result.scratch_database = plan.name;
  run.result.scratch_server = plan.server;
  return Status::Ok();
}

Status MakeScratchDir(Run& run) {
  ASSIGN_OR_RETURN(run.dir, internal::MakeScratchDirectory("certctl-restore-check"));
  return Status::Ok();
}

Status Prepare(Run& run) {
  RETURN_IF_ERROR(MakeScratchDir(run));
  if (!run.options.from_database.empty()) {
    ASSIGN_OR_RETURN(ConnInfo source, ConnInfo::Parse(run.options.from_database));
    run.dump = run.dir + "/source.dump";
    run.format = internal::DumpFormat::kCustom;
    run.result.format = "custom";
    auto started = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(internal::DumpDatabase(source, run.dump));
    run.report.steps.push_back("dumped " + source.Address() + " in " +
                               std::to_string(Since(started).count()) + " ms");
  }
  return Status::Ok();
}

Status Restore(Run& run) {
  Status created = CreateScratchDatabase(run.admin, run.result.scratch_database);
  if (created.code() == StatusCode::kAlreadyExists) {
    return Status::InvalidArgument(created.message());
  }
  RETURN_IF_ERROR(created);
  run.created = true;
  run.report.steps.push_back("created the scratch database " +
                             run.result.scratch_database);
  Status restored = internal::RestoreDump(run.dump, run.format, run.scratch.conninfo);
  if (!restored.ok()) {
    run.report.AddFinding(
        "error", "restore.failed", run.result.source,
        "the dump could not be restored (is it complete?): " + restored.message());
    run.stopped = true;
    return Status::Ok();
  }
  run.report.steps.push_back("restored " + run.result.source);
  ASSIGN_OR_RETURN(run.scratch.db,
                   Database::Open({.url = run.scratch.conninfo.ToString(),
                                   .pool_size = 2,
                                   .application_name = "certctl-restore-check"}));
  return Status::Ok();
}

Status Schema(Run& run) {
  ConnInfo ref = run.admin.WithDatabase(run.reference_name);
  RETURN_IF_ERROR(CreateScratchDatabase(run.admin, run.reference_name));
  run.reference_created = true;
  ASSIGN_OR_RETURN(run.reference,
                   Database::Open({.url = ref.ToString(),
                                   .pool_size = 1,
                                   .application_name = "certctl-restore-check"}));
  RETURN_IF_ERROR(Migrate(*run.reference).status());
  return internal::CheckSchema(run.scratch, *run.reference, run.result, run.report);
}

void Cleanup(Run& run) {
  run.scratch.db.reset();
  run.reference.reset();
  if (run.reference_created) {
    Status s = DropScratchDatabase(run.admin, run.reference_name);
    if (!s.ok())
      run.report.AddFinding("warning", "restore.cleanup", run.reference_name,
                            s.message());
  }
  if (run.options.keep) {
    run.result.kept = true;
    run.result.scratch_dir = run.dir;
    if (run.created) {
      run.report.steps.push_back("kept the scratch database " +
                                 run.result.scratch_database + " (--keep)");
    }
    return;
  }
  if (run.created) {
    Status s = DropScratchDatabase(run.admin, run.result.scratch_database);
    if (s.ok()) {
      run.report.steps.push_back("dropped the scratch database " +
                                 run.result.scratch_database);
    } else {
      run.report.AddFinding("warning", "restore.cleanup", run.result.scratch_database,
                            "the scratch database was not dropped: " + s.message());
    }
  }
  std::error_code ec;
  if (!run.dir.empty()) fs::remove_all(run.dir, ec);
}

void Conclude(RestoreCheck& result, const OpReport& report) {
  bool errors = false, warnings = false;
  for (const auto& f : report.findings) {
    errors = errors || f.severity == "error";
    warnings = warnings || f.severity != "error";
  }
  result.verdict = errors     ? RestoreVerdict::kUnusable
                   : warnings ? RestoreVerdict::kUsableWithWarnings
                              : RestoreVerdict::kUsable;
  for (const char* severity : {"error", "warning"}) {
    for (const auto& f : report.findings) {
      if (f.severity == severity) result.reasons.push_back(f.message);
    }
  }
}

// One audit event in the live database, so that `dr check` sees that a
// restore was checked (and with what verdict).
void Record(OpContext& ctx, const RestoreCheck& result, OpReport& report) {
  if (ctx.config.audit_key.empty()) return;
  std::string verdict(RestoreVerdictName(result.verdict));
  // An unusable backup is a failed check (exit 1): `dr check` counts only
  // the ones that succeeded as evidence.
  bool usable = result.verdict != RestoreVerdict::kUnusable;
  Status s = WriteAuditEvent(ctx, "db.restore-check", report.target, "verdict " + verdict,
                             usable,
                             {{"verdict", verdict},
                              {"format", result.format},
                              {"schema_version", result.dump_schema_version},
                              {"findings", report.findings.size()}});
  if (!s.ok()) {
    report.AddFinding("warning", "restore.not_audited", "audit_events",
                      "the check was not recorded in the audit log: " + s.message());
  }
}

}  // namespace

namespace internal {

Result<ScratchPlan> PlanScratchDatabase(const ConnInfo& live,
                                        const std::string& scratch_url,
                                        const std::string& prefix,
                                        const std::string& what) {
  ScratchPlan plan;
  ConnInfo server = live;
  if (!scratch_url.empty()) {
    auto parsed = ConnInfo::Parse(scratch_url);
    if (!parsed.ok()) return parsed.status().WithContext("--scratch-url");
    server = *parsed;
    plan.name = server.Get("dbname");
  }
  if (plan.name.empty()) {
    ASSIGN_OR_RETURN(std::string random, RandomBytes(6));
    plan.name = prefix + HexEncode(random);
  }
  plan.conninfo = server.WithDatabase(plan.name);
  if (plan.conninfo.Address() == live.Address()) {
    return Status::InvalidArgument("--scratch-url names the live database (" +
                                   live.Address() + "): " + what +
                                   " restores only into a database it creates");
  }
  // CREATE DATABASE runs over the live connection on the live server, else
  // over the server's maintenance database.
  plan.admin = scratch_url.empty() ? live : server.WithDatabase("postgres");
  std::string address = plan.conninfo.Address();
  plan.server = address.substr(0, address.rfind('/'));
  return plan;
}

Result<std::string> MakeScratchDirectory(const std::string& prefix) {
  std::string base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {  // mode 0700
    return Status::Internal("create a scratch directory under " + base + ": " +
                            std::strerror(errno));
  }
  return tmpl;
}

}  // namespace internal

std::string_view RestoreVerdictName(RestoreVerdict verdict) {
  switch (verdict) {
    case RestoreVerdict::kUsable:
      return "usable";
    case RestoreVerdict::kUsableWithWarnings:
      return "usable-with-warnings";
    case RestoreVerdict::kUnusable:
      return "unusable";
  }
  return "unusable";
}

Result<RestoreCheck> CheckRestore(OpContext& ctx, const RestoreCheckOptions& options,
                                  OpReport& report) {
  report.operation = "db.restore-check";
  auto started = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(CheckOptions(options));
  RestoreCheck result;
  result.source = options.dump_path.empty() ? MaskDatabaseUrl(options.from_database)
                                            : options.dump_path;
  report.target = result.source;
  Run run{.ctx = ctx,
          .options = options,
          .result = result,
          .report = report,
          .dump = options.dump_path};
  if (!options.dump_path.empty()) {
    auto format = internal::DetectDumpFormat(options.dump_path);
    if (!format.ok() && format.status().code() != StatusCode::kCorruption) {
      return format.status();
    }
    if (!format.ok()) {
      report.AddFinding("error", "restore.dump_unusable", result.source,
                        format.status().message());
      run.stopped = true;
    } else {
      run.format = *format;
      result.format = std::string(internal::DumpFormatName(*format));
    }
  }
  ASSIGN_OR_RETURN(ConnInfo live, ConnInfo::Parse(ctx.db.options().url));
  RETURN_IF_ERROR(PlanScratch(run, live));
  Status fatal = run.FatalPhase("prepare", [&] { return Prepare(run); });
  if (fatal.ok()) fatal = run.FatalPhase("restore", [&] { return Restore(run); });
  if (fatal.ok()) {
    run.Phase("migrate",
              [&] { return internal::CheckMigrations(run.scratch, result, report); });
    if (ErrorCount(report) > 0) run.stopped = true;
    run.Phase("schema", [&] { return Schema(run); });
    run.Phase("data",
              [&] { return internal::CheckData(ctx, run.scratch, result, report); });
    run.Phase("material",
              [&] { return internal::CheckMaterial(ctx, run.scratch, result, report); });
    run.Phase("live", [&] {
      return internal::CheckLive(ctx, options, run.scratch, result, report);
    });
  }
  auto cleanup_started = std::chrono::steady_clock::now();
  Cleanup(run);
  result.phases.push_back({"cleanup", "ok", Since(cleanup_started)});
  if (!fatal.ok()) return fatal;
  if (run.interrupted.ok()) run.interrupted = CheckInterrupted("restore-check ran");
  if (!run.interrupted.ok()) return run.interrupted;
  Conclude(result, report);
  Record(ctx, result, report);
  report.duration = Since(started);
  return result;
}

}  // namespace certctl::ops
