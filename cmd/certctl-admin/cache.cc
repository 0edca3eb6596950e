// certctl-admin cache: the runbook's "OCSP response cache recovery" and the
// cache truncations of its CA rotation and Postgres restore procedures.
#include "certctl/ops/cache_json.h"
#include "certctl/ops/cache_ops.h"
#include "commands.h"

namespace certctl::admin {
namespace {

struct TruncateFlags {
  bool crl = false;
  bool ocsp = false;
  bool all = false;
  std::string issuer;
  std::string serial;
  MutationFlags mutation;
};

std::string Describe(const ops::TruncateScope& scope) {
  std::string what = scope.crl && scope.ocsp ? "the CRL and OCSP caches"
                     : scope.crl             ? "the CRL cache"
                                             : "the OCSP response cache";
  if (!scope.serial.empty()) what = "the cached OCSP answer for " + scope.serial;
  return what + (scope.issuer.empty() ? " of every issuer" : " of " + scope.issuer);
}

void RenderTruncate(const AdminApp& app, const ops::OpReport& r,
                    const Result<ops::CachesTruncated>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (r.dry_run || !result.ok()) return;
  PrintFields(out, {{"CRL rows deleted", std::to_string(result->crl_rows_deleted)},
                    {"OCSP rows deleted", std::to_string(result->ocsp_rows_deleted)}});
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::OcspCacheVerified>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (!result.ok()) return;
  PrintFields(out, {{"answers scanned", std::to_string(result->scanned)},
                    {"bad", std::to_string(result->bad)},
                    {"removed", std::to_string(result->fixed)}});
  if (result->bad == 0) {
    out << app.PaintVerdict("ok") << ": every cached answer is current\n";
  } else if (!r.has_errors()) {
    out << app.PaintVerdict("ok") << ": " << (r.dry_run ? "would remove " : "removed ")
        << (r.dry_run ? result->bad : result->fixed) << " bad cached answer(s)\n";
  }
}

void RegisterTruncate(AdminApp& app, CLI::App* cache) {
  auto& f = app.Make<TruncateFlags>();
  auto* cmd = cache->add_subcommand("truncate", "Delete cached CRLs and/or OCSP answers");
  auto* crl = cmd->add_flag("--crl", f.crl, "The CRL cache (crl_cache)");
  auto* ocsp =
      cmd->add_flag("--ocsp", f.ocsp, "The OCSP response cache (ocsp_response_cache)");
  auto* all = cmd->add_flag("--all", f.all, "Both caches");
  all->excludes(crl)->excludes(ocsp);
  auto* issuer = cmd->add_option("--issuer", f.issuer, "Only this issuer's entries")
                     ->type_name("ISSUER");
  cmd->add_option(
         "--serial", f.serial,
         "Only the cached OCSP answer for this serial (needs --ocsp and --issuer)")
      ->type_name("SERIAL")
      ->needs(ocsp)
      ->needs(issuer);
  app.AddMutationFlags(cmd, f.mutation);
  app.Document(
      cmd,
      {.description =
           "Counts, then deletes cached CRLs (--crl), cached OCSP answers (--ocsp) or "
           "both (--all), for every issuer or one (--issuer), or the one cached answer "
           "for a serial (--serial), and notifies every running certctld so that its "
           "in-memory cache drops the same entries. Nothing is lost: the next request "
           "signs live and the cache refills as relying parties ask.\n\nThese are the "
           "runbook's `DELETE FROM ocsp_response_cache ...` and `TRUNCATE crl_cache` "
           "steps (stale answer after a revoke, after a CA rotation, after a Postgres "
           "restore). It deletes, so it asks for confirmation.",
       .examples = {{"certctl-admin cache truncate --ocsp --issuer iss-local --serial "
                     "3f0a9c... --yes",
                     "drop one stale OCSP answer"},
                    {"certctl-admin cache truncate --all --dry-run",
                     "count what a post-restore truncate would delete"},
                    {"certctl-admin cache truncate --all --yes",
                     "after a Postgres restore"}},
       .json_data = {{"crl_rows_deleted", "cached CRL rows deleted (0 in a dry run)"},
                     {"ocsp_rows_deleted",
                      "cached OCSP answers deleted (0 in a dry run)"}},
       .findings = "never (errors have their own codes)",
       .mutating = true,
       .destructive = true});
  cmd->callback([&app, &f] {
    app.SetAction("cache.truncate", [&app, &f] {
      if (!f.crl && !f.ocsp && !f.all) {
        return app.Fail(
            Status::InvalidArgument("say which cache: --crl, --ocsp or --all"));
      }
      ops::TruncateScope scope{f.crl || f.all, f.ocsp || f.all, f.issuer, f.serial};
      Status confirmed = app.Confirm(f.mutation, "Delete " + Describe(scope) + "?");
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&f.mutation);
      ops::OpReport report;
      auto result = ops::TruncateCaches(ctx, scope, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderTruncate(app, r, result, out);
                 });
    });
  });
}

void RegisterVerify(AdminApp& app, CLI::App* cache) {
  auto& fix = app.Make<bool>();
  auto& flags = app.Make<MutationFlags>();
  auto* cmd =
      cache->add_subcommand("verify", "Find cached OCSP answers that are wrong or stale");
  cmd->add_flag("--fix", fix, "Delete the bad answers found (asks for confirmation)");
  app.AddMutationFlags(cmd, flags);
  app.Document(
      cmd,
      {.description =
           "Scans the shared OCSP response cache for answers that disagree with the "
           "revocation records (a cached good for a revoked certificate, a cached "
           "revoked for one that is not, a cached unknown for a certificate the database "
           "has), are past their nextUpdate, are signed by a responder certificate that "
           "is no longer current, or do not parse. Each is reported.\n\nWith --fix they "
           "are then deleted (under the cache lock, notifying running daemons); an "
           "answer re-signed since the scan is left alone. Found answers are then "
           "warnings and the exit status is the fix's, 0 when it worked, in a dry run as "
           "in a real one. Without --fix it only reads.",
       .examples = {{"certctl-admin cache verify", "is any cached answer wrong?"},
                    {"certctl-admin cache verify --fix --yes", "remove the bad ones"}},
       .json_data = {{"scanned", "cached answers examined"},
                     {"bad", "answers found wrong or stale"},
                     {"fixed", "answers deleted (with --fix)"}},
       .findings = "without --fix, a bad answer was found: an error finding each, "
                   "cache.stale_good, cache.stale_revoked, cache.stale_unknown, "
                   "cache.expired, cache.old_responder or cache.corrupt",
       .exit_status = {{0,
                        "no bad answer was found; or, with --fix, every bad answer was "
                        "removed (each a warning finding; with --dry-run: would be)"}},
       .mutating = true,
       .destructive = true});
  cmd->callback([&app, &fix, &flags] {
    app.SetAction("cache.verify", [&app, &fix, &flags] {
      if (fix) {
        Status confirmed =
            app.Confirm(flags, "Delete every bad cached OCSP answer found?");
        if (!confirmed.ok()) return app.Fail(confirmed);
      }
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&flags);
      ops::OpReport report;
      auto result = ops::VerifyOcspCache(ctx, fix, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderVerify(app, r, result, out);
                 });
    });
  });
}

}  // namespace

void RegisterCacheCommands(AdminApp& app) {
  auto* cache =
      app.root().add_subcommand("cache", "CRL and OCSP caches: truncate, verify");
  cache->require_subcommand(1);
  RegisterTruncate(app, cache);
  RegisterVerify(app, cache);
}

}  // namespace certctl::admin
