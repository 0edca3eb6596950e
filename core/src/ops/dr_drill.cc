// RunDrDrill: the steps of `dr drill` in order, each timed, under the drill's
// lock and audit events; stop and cleanup run whatever happened.
#include "certctl/ops/dr_drill.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "certctl/pki/ossl.h"
#include "certctl/util/encoding.h"
#include "certctl/util/interrupt.h"
#include "ops/dr_check_internal.h"
#include "ops/dr_drill_internal.h"

namespace certctl::ops {
namespace {

namespace fs = std::filesystem;
using internal::DrillScratch;

constexpr char kNamePrefix[] = "certctl_dr_drill_";
constexpr char kLock[] = "dr:drill";
constexpr auto kStopGrace = std::chrono::seconds(20);

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t);
}

Result<std::string> ChooseDump(const DrDrillOptions& o) {
  if (!o.dump_path.empty()) return o.dump_path;
  if (o.backup_dir.empty()) {
    return Status::InvalidArgument(
        "give --dump FILE, or --backup-dir DIR (or backup_dir in a --thresholds file) "
        "to drill with the newest backup there");
  }
  return internal::NewestBackup(o.backup_dir);
}

// Size and SHA-256 of the dump (of toc.dat for a directory-format dump),
// streamed: a dump can be larger than memory.
Status DescribeDump(const std::string& path, DrDrill& result) {
  fs::path file = fs::is_directory(path) ? fs::path(path) / "toc.dat" : fs::path(path);
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + file.string());
  UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("SHA-256 is not available");
  }
  std::string buf(1 << 16, '\0');
  int64_t total = 0;
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount()) {
    EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(in.gcount()));
    total += in.gcount();
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(md.get(), digest, &length);
  result.dump_bytes = total;
  result.dump_sha256 = HexEncode({reinterpret_cast<char*>(digest), length});
  return Status::Ok();
}

Status CheckPrerequisites(OpContext& ctx, const DrDrillOptions& o) {
  if (ctx.config.audit_key.empty()) {
    return Status::FailedPrecondition(
        "no audit key is configured (CERTCTL_AUDIT_KEY): a drill is recorded in the "
        "audit log, and the scratch certctld needs it to issue and revoke");
  }
  if (o.certctld_path.empty() || ::access(o.certctld_path.c_str(), X_OK) != 0) {
    return Status::FailedPrecondition(
        "certctld not found" + (o.certctld_path.empty() ? "" : " at " + o.certctld_path) +
        ": install it beside certctl-admin, or give --certctld PATH");
  }
  return Status::Ok();
}

class Drill {
 public:
  Drill(OpContext& ctx, const DrDrillOptions& options, DrDrill& result, OpReport& report)
      : ctx_(ctx), options_(options), result_(result), report_(report) {}

  DrillScratch& scratch() { return s_; }
  internal::DumpFormat format = internal::DumpFormat::kCustom;

  // Runs one step unless an earlier one failed (then "skipped"); a signal
  // before or during it fails it.
  void Step(const std::string& name, const std::function<Status(std::string&)>& body) {
    if (failed_) {
      result_.steps.push_back({name, "skipped", {}, ""});
      return;
    }
    Run(name, body, true);
  }

  // A step that runs whatever happened before (stop, cleanup), signal or not.
  void Always(const std::string& name, const std::function<Status(std::string&)>& body) {
    Run(name, body, false);
  }

  bool failed() const { return failed_; }

  Status Restore(std::string& detail);
  Status Migrate(std::string& detail);
  Status Stop(std::string& detail);
  Status Cleanup(std::string& detail);

 private:
  void Run(const std::string& name, const std::function<Status(std::string&)>& body,
           bool interruptible) {
    if (ctx_.progress) ctx_.progress->Update("dr drill: " + name, ++index_, 10);
    auto started = std::chrono::steady_clock::now();
    std::string detail;
    Status st =
        interruptible ? CheckInterrupted("the drill waited to " + name) : Status::Ok();
    if (st.ok()) st = body(detail);
    if (st.ok() && interruptible)
      st = CheckInterrupted("the drill's step " + name + " ran");
    if (!st.ok()) Fail(name, st.message());
    result_.steps.push_back({name, st.ok() ? "passed" : "failed", Since(started),
                             st.ok() ? detail : st.message()});
  }

  void Fail(const std::string& step, const std::string& why) {
    failed_ = true;
    report_.AddFinding("error", "dr.drill_failed", step,
                       "the drill failed at step " + step + ": " + why);
  }

  OpContext& ctx_;
  const DrDrillOptions& options_;
  DrDrill& result_;
  OpReport& report_;
  DrillScratch s_;
  bool failed_ = false;
  int index_ = 0;
};

Status Drill::Restore(std::string& detail) {
  RETURN_IF_ERROR(CreateScratchDatabase(s_.plan.admin, s_.plan.name));
  s_.created = true;
  s_.copy.conninfo = s_.plan.conninfo;
  RETURN_IF_ERROR(internal::RestoreDump(result_.dump, format, s_.plan.conninfo));
  ASSIGN_OR_RETURN(s_.copy.db, Database::Open({.url = s_.plan.conninfo.ToString(),
                                               .pool_size = 2,
                                               .application_name = "certctl-dr-drill"}));
  detail = "restored " + result_.dump + " (" + result_.format + ", " +
           std::to_string(result_.dump_bytes) + " bytes, sha256 " + result_.dump_sha256 +
           ") into " + s_.plan.name + " on " + s_.plan.server;
  return Status::Ok();
}

Status Drill::Migrate(std::string& detail) {
  RestoreCheck check;
  OpReport findings;
  RETURN_IF_ERROR(internal::CheckMigrations(s_.copy, check, findings));
  for (const auto& f : findings.findings) {
    if (f.severity == "error") return Status::Corruption(f.message);
  }
  result_.dump_schema_version = check.dump_schema_version;
  result_.schema_version = check.schema_version;
  ASSIGN_OR_RETURN(result_.rows, internal::CountRecoverableRows(*s_.copy.db));
  detail = "schema " + std::to_string(check.dump_schema_version) + " -> " +
           std::to_string(check.schema_version) + " (" +
           std::to_string(check.migrations_applied.size()) + " migration(s) applied); " +
           std::to_string(result_.rows["certificates"]) + " certificates, " +
           std::to_string(result_.rows["certificate_revocations"]) + " revocations, " +
           std::to_string(result_.rows["audit_events"]) + " audit events";
  return Status::Ok();
}

Status Drill::Stop(std::string& detail) {
  if (!s_.daemon.Running()) {  // never started, or exited (and reaped) by itself
    detail = result_.daemon_pid == 0
                 ? "no certctld was started"
                 : "certctld (pid " + std::to_string(result_.daemon_pid) +
                       ") had exited by itself, status " +
                       std::to_string(s_.daemon.exit_code());
    return Status::Ok();
  }
  int status = s_.daemon.Stop(kStopGrace);
  detail = "certctld (pid " + std::to_string(result_.daemon_pid) + ") stopped, exit " +
           std::to_string(status);
  if (status != 0) {
    return Status::Internal("certctld (pid " + std::to_string(result_.daemon_pid) +
                            ") exited " + std::to_string(status) +
                            "; its log: " + s_.dir + "/certctld.log");
  }
  return Status::Ok();
}

Status Drill::Cleanup(std::string& detail) {
  s_.copy.db.reset();
  if (failed_ && options_.keep_on_failure) {
    result_.kept = true;
    detail = "kept the scratch database " + s_.plan.name + " and " + s_.dir +
             " (--keep-on-failure)";
    return Status::Ok();
  }
  Status dropped =
      s_.created ? DropScratchDatabase(s_.plan.admin, s_.plan.name) : Status::Ok();
  std::error_code ec;
  if (!s_.dir.empty()) fs::remove_all(s_.dir, ec);
  RETURN_IF_ERROR(dropped.WithContext("the scratch database was not dropped"));
  if (ec) return Status::Internal("remove " + s_.dir + ": " + ec.message());
  detail = "dropped " + s_.plan.name + ", removed " + s_.dir;
  return Status::Ok();
}

void Plan(const DrDrillOptions& options, const DrillScratch& s, const DrDrill& r,
          OpReport& report) {
  report.plan = {
      "restore " + r.dump + " (" + r.format + ", " + std::to_string(r.dump_bytes) +
          " bytes, sha256 " + r.dump_sha256 + ") into a new database " + s.plan.name +
          " on " + s.plan.server + ", and apply the pending migrations",
      "copy the CA material and the key files the copy names into a scratch directory "
      "(the live files are only read) and point the copy at the copies",
      "start " + options.certctld_path + " on the copy, on 127.0.0.1 ports",
      "issue a test certificate through its API and revoke it; check its CRL and its "
      "OCSP answer with the restored CA certificate",
      "stop certctld, drop " + s.plan.name +
          ", remove the scratch directory, and record "
          "the drill in the audit log (dr.drill)"};
}

void RunSteps(Drill& d, const DrDrillOptions& options, DrDrill& r, OpContext& ctx) {
  DrillScratch& s = d.scratch();
  d.Step("restore", [&](std::string& detail) { return d.Restore(detail); });
  d.Step("migrate", [&](std::string& detail) { return d.Migrate(detail); });
  d.Step("material", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::PrepareMaterial(ctx, s, r));
    detail = "CA material and key files copied into " + s.dir;
    return Status::Ok();
  });
  d.Step("start", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::StartScratchDaemon(ctx, options, s, r));
    detail = "certctld pid " + std::to_string(r.daemon_pid) + " ready on " + r.api_url +
             " and " + r.pki_url;
    return Status::Ok();
  });
  d.Step("issue", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::IssueTestCertificate(s, r));
    detail = "issued " + r.issuer + "/" + r.serial + " (generation " +
             std::to_string(r.generation) + ")";
    return Status::Ok();
  });
  d.Step("revoke", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::RevokeTestCertificate(s, r));
    detail = "revoked " + r.serial;
    return Status::Ok();
  });
  d.Step("crl", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::CheckScratchCrl(options, s, r));
    detail = "CRL " + std::to_string(r.crl_number) +
             " verifies with the restored CA certificate and lists " + r.serial;
    return Status::Ok();
  });
  d.Step("ocsp", [&](std::string& detail) {
    RETURN_IF_ERROR(internal::CheckScratchOcsp(s, r));
    detail = "OCSP says " + r.ocsp_status +
             ", signed by a responder of the restored CA certificate";
    return Status::Ok();
  });
  d.Always("stop", [&](std::string& detail) { return d.Stop(detail); });
  d.Always("cleanup", [&](std::string& detail) { return d.Cleanup(detail); });
}

}  // namespace

Result<DrDrill> RunDrDrill(OpContext& ctx, const DrDrillOptions& options,
                           OpReport& report) {
  report.operation = "dr.drill";
  RETURN_IF_ERROR(CheckPrerequisites(ctx, options));
  DrDrill result;
  ASSIGN_OR_RETURN(result.dump, ChooseDump(options));
  report.target = result.dump;
  Drill drill(ctx, options, result, report);
  auto format = internal::DetectDumpFormat(result.dump);
  if (!format.ok() && format.status().code() == StatusCode::kCorruption) {
    return Status::InvalidArgument(format.status().message());
  }
  if (!format.ok()) return format.status();
  drill.format = *format;
  result.format = std::string(internal::DumpFormatName(*format));
  RETURN_IF_ERROR(DescribeDump(result.dump, result));
  ASSIGN_OR_RETURN(ConnInfo live, ConnInfo::Parse(ctx.db.options().url));
  DrillScratch& s = drill.scratch();
  ASSIGN_OR_RETURN(s.plan, internal::PlanScratchDatabase(live, options.scratch_url,
                                                         kNamePrefix, "a drill"));
  result.scratch_database = s.plan.name;
  result.scratch_server = s.plan.server;
  MutationSpec spec{"dr.drill",
                    result.dump,
                    {{"dump", result.dump},
                     {"format", result.format},
                     {"bytes", result.dump_bytes},
                     {"sha256", result.dump_sha256},
                     {"scratch_database", s.plan.name}},
                    {kLock}};
  Status ran = RunMutation(ctx, spec, report, [&]() -> Status {
    if (ctx.dry_run) {
      Plan(options, s, result, report);
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(s.dir, internal::MakeScratchDirectory("certctl-dr-drill"));
    result.scratch_dir = s.dir;
    RunSteps(drill, options, result, ctx);
    result.passed = !drill.failed();
    report.steps.push_back(result.passed
                               ? "the drill passed: every step of " +
                                     std::to_string(result.steps.size()) + " passed"
                               : "the drill failed");
    return Status::Ok();
  });
  if (!ran.ok()) return ran;
  return result;
}

}  // namespace certctl::ops
