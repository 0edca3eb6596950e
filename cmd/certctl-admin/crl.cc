// certctl-admin crl: the runbook's "CRL cache recovery" section.
#include "certctl/ops/certificate_ops.h"
#include "certctl/ops/crl_json.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

void RenderStatus(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::CrlStatus>& result, std::ostream& out) {
  if (result.ok()) {
    for (const auto& issuer : result->issuers) {
      for (const auto& g : issuer.generations) {
        out << issuer.issuer << " generation " << g.generation << ": "
            << app.PaintVerdict(ops::CrlVerdictName(g.verdict)) << "\n";
        nlohmann::json fields = nlohmann::json::object();
        fields["cached CRL"] = g.cache ? ops::ToJson(*g.cache) : nlohmann::json("none");
        fields["revoked in database"] = g.database_revoked_count;
        if (!g.events.empty()) {
          nlohmann::json events = nlohmann::json::array();
          for (const auto& e : g.events) events.push_back(ops::ToJson(e));
          fields["recent generation events"] = events;
        }
        PrintObject(out, fields, 2);
      }
    }
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << "\n";
  }
}

// One issuer's run of `crl regenerate`: a regeneration or an invalidation.
struct RegenerateRun {
  std::string issuer;
  ops::OpReport report;
  Result<ops::CrlRegeneration> regenerated = Status::Internal("not run");
  Result<ops::CrlCacheInvalidated> invalidated = Status::Internal("not run");
};

void RenderRegenerate(const AdminApp& app, const ops::OpReport& r,
                      const std::vector<RegenerateRun>& runs, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (r.dry_run) return;
  for (const auto& run : runs) {
    if (run.invalidated.ok()) {
      out << run.issuer << ": next fetch: " << run.invalidated->next_fetch << "\n";
    }
    if (!run.regenerated.ok()) continue;
    std::vector<std::vector<std::string>> rows{
        {"ISSUER", "GEN", "CRL NUMBER", "REVOKED", "SIZE", "THIS UPDATE", "NEXT UPDATE"}};
    for (const auto& c : run.regenerated->crls) {
      rows.push_back({run.issuer, std::to_string(c.generation), std::to_string(c.number),
                      std::to_string(c.revoked), std::to_string(c.der_size),
                      FormatRfc3339(c.this_update), FormatRfc3339(c.next_update)});
    }
    if (rows.size() > 1) PrintTable(out, rows);
  }
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::FetchedCrlVerified>& result, std::ostream& out) {
  if (result.ok()) PrintObject(out, ops::ToJson(*result));
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.message << " [" << f.code << "]\n";
  }
  if (result.ok() && !r.has_errors())
    out << app.PaintVerdict("ok") << ": the served CRL verifies\n";
}

void RegisterStatus(AdminApp& app, CLI::App* crl) {
  auto& choice = app.Make<IssuerChoice>();
  auto& events = app.Make<int>();
  events = 5;
  auto* cmd = crl->add_subcommand("status",
                                  "Diagnose the cached CRLs: missing, stale, corrupt...");
  AddIssuerArgument(cmd, choice, true,
                    "Every issuer (the default when no ISSUER is given)");
  cmd->add_option("--events", events,
                  "How many recent generation events to show per issuer")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.Document(
      cmd,
      {.description =
           "Shows, for each CA generation of the issuer (or of every issuer), the cached "
           "CRL row (size, CRL number, thisUpdate and nextUpdate, when and how fast it "
           "was generated, how many revocations it lists), the most recent generation "
           "events, and a verdict: ok, missing (no cached row), stale (past nextUpdate), "
           "corrupt (does not parse), bad_signature (does not verify with the "
           "generation's CA certificate) or count_mismatch (lists a different number of "
           "revocations than the database holds).\n\nThis replaces the two psql queries "
           "of the runbook's diagnosis step. It only reads.",
       .examples = {{"certctl-admin crl status iss-local",
                     "diagnose the local issuer's CRL"},
                    {"certctl-admin crl status --all -o json | jq '.findings'",
                     "every issuer, for a monitoring script"}},
       .json_data = {{"issuers",
                      "[{issuer, generations: [{generation, verdict, cache (the row or "
                      "null), database_revoked_count, events: [...]}]}]"}},
       .findings = "at least one generation's verdict is not ok (one error finding "
                   "\"crl.<verdict>\" each)"});
  cmd->callback([&app, &choice, &events] {
    app.SetAction("crl.status", [&app, &choice, &events] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto result =
          ops::DescribeCrls(ctx, choice.all ? "" : choice.issuer, events, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderStatus(app, r, result, out);
                 });
    });
  });
}

RegenerateRun RegenerateOne(ops::OpContext& ctx, const std::string& issuer,
                            bool invalidate_only) {
  RegenerateRun run{issuer, {}};
  if (invalidate_only) {
    run.invalidated = ops::InvalidateCrlCache(ctx, issuer, run.report);
  } else {
    run.regenerated =
        ops::RegenerateCrl(ctx, issuer, ops::CrlTrigger::kAdmin, run.report);
  }
  return run;
}

// The run's part of the combined document; a failed run has its issuer.
PartRun JsonPart(const RegenerateRun& run, bool invalidate_only) {
  PartRun part{&run.report,
               invalidate_only ? run.invalidated.status() : run.regenerated.status()};
  if (invalidate_only) {
    part.json = run.invalidated.ok()
                    ? ops::JsonParts(*run.invalidated)
                    : ops::JsonParts(ops::CrlCacheInvalidated{.issuer = run.issuer});
  } else {
    part.json = run.regenerated.ok()
                    ? ops::JsonParts(*run.regenerated)
                    : ops::JsonParts(ops::CrlRegeneration{.issuer = run.issuer});
  }
  return part;
}

void RegisterRegenerate(AdminApp& app, CLI::App* crl) {
  auto& choice = app.Make<IssuerChoice>();
  auto& invalidate_only = app.Make<bool>();
  auto& flags = app.Make<MutationFlags>();
  auto* cmd = crl->add_subcommand("regenerate", "Sign a fresh CRL now and verify it");
  AddIssuerArgument(cmd, choice, true);
  cmd->add_flag(
      "--invalidate-only", invalidate_only,
      "Only delete the cached CRL row (the runbook's literal step); the next fetch signs "
      "live and writes it back. Destructive: needs --yes without a terminal");
  app.AddMutationFlags(cmd, flags);
  app.Document(
      cmd,
      {.description =
           "Builds and signs a fresh CRL for every CA generation of the issuer that is "
           "active or still has unexpired certificates, using the same function as "
           "certctld's crlGenerationLoop: the next CRL number, every revocation of the "
           "generation, thisUpdate now and nextUpdate after crl_validity. The CRL is "
           "parsed back and its signature checked with the CA certificate before it "
           "replaces the cached row, and a crl_generation_events row records the "
           "run.\n\nWith --invalidate-only the cached row is only deleted, as the "
           "runbook's recovery step does with psql; the report says what the next fetch "
           "will do. That form is destructive and asks for confirmation.\n\nThe command "
           "takes the issuer's CRL lock, the one certctld's scheduler takes, so the two "
           "never run at once.",
       .examples = {{"certctl-admin crl regenerate iss-local",
                     "replace a corrupt or stale cached CRL with a fresh one"},
                    {"certctl-admin crl regenerate --all --dry-run",
                     "show which CRL numbers would be signed"},
                    {"certctl-admin crl regenerate iss-local --invalidate-only --yes",
                     "only drop the cached row"}},
       .json_data = {{"issuers",
                      "one entry per issuer: {issuer, ok, error, crls: [{generation, "
                      "crl_number, size, revoked_count, this_update, next_update, "
                      "duration_ms}]}; in a dry run planned: [{generation, crl_number, "
                      "revoked_count}] instead of crls; with --invalidate-only {issuer, "
                      "ok, error, rows_deleted, rows_to_delete, next_fetch}"}},
       .findings = "the fresh CRL did not verify",
       .mutating = true});
  cmd->callback([&app, &choice, &invalidate_only, &flags] {
    app.SetAction("crl.regenerate", [&app, &choice, &invalidate_only, &flags] {
      if (!choice.all && choice.issuer.empty()) {
        return app.Fail(Status::InvalidArgument("give an ISSUER or --all"));
      }
      if (invalidate_only) {
        Status confirmed =
            app.Confirm(flags, "Delete the cached CRL of " +
                                   (choice.all ? "every issuer" : choice.issuer) + "?");
        if (!confirmed.ok()) return app.Fail(confirmed);
      }
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&flags);
      std::vector<std::string> issuers{choice.issuer};
      if (choice.all) {
        auto all = ops::ListIssuerIds(ctx);
        if (!all.ok()) return app.Fail(all.status());
        issuers = *all;
      }
      std::vector<RegenerateRun> runs;
      for (const auto& issuer : issuers)
        runs.push_back(RegenerateOne(ctx, issuer, invalidate_only));
      std::vector<PartRun> parts;
      for (const auto& run : runs) parts.push_back(JsonPart(run, invalidate_only));
      auto combined = CombineRuns(invalidate_only ? "crl.invalidate" : "crl.regenerate",
                                  choice.all ? "*" : choice.issuer, parts, "issuers");
      combined.report.dry_run = flags.dry_run;
      app.Finish(combined.report, combined.status, combined.json, [&](std::ostream& out) {
        RenderRegenerate(app, combined.report, runs, out);
      });
    });
  });
}

// GET the CRL the way a relying party would.
Result<std::string> FetchCrl(const AdminApp& app, const Config& config,
                             const std::string& url) {
  ASSIGN_OR_RETURN(auto client, app.HttpClientFor(config));
  ASSIGN_OR_RETURN(auto response, client.Get(url));
  if (response.status == 404) {
    return Status::NotFound(url + " answered 404: certctld does not know this issuer");
  }
  if (response.status != 200) {
    return Status::Unavailable(url + " answered " + std::to_string(response.status) +
                               " " + response.reason);
  }
  return std::move(response.body);
}

void RegisterVerify(AdminApp& app, CLI::App* crl) {
  auto& choice = app.Make<IssuerChoice>();
  auto& url = app.Make<std::string>();
  auto* cmd = crl->add_subcommand(
      "verify", "Fetch the served CRL and check it against the database");
  AddIssuerArgument(cmd, choice, false);
  cmd->add_option("--url", url,
                  "Where to fetch the CRL (default: "
                  "<base_url>/.well-known/pki/crl/ISSUER, the running certctld)")
      ->type_name("URL");
  app.Document(
      cmd,
      {.description =
           "Fetches the CRL over HTTP exactly as a relying party does (from the running "
           "certctld, or from --url), then checks it with the issuer's CA certificate: "
           "it parses, its signature verifies, nextUpdate is in the future, and it lists "
           "exactly the serials the database has revoked for that CA generation.\n\nThis "
           "is the runbook's `curl ... | openssl crl` verification step. It only reads.",
       .examples = {{"certctl-admin crl verify iss-local", "check what certctld serves"},
                    {"certctl-admin crl verify iss-local --url "
                     "http://pki.example.com/.well-known/pki/crl/iss-local",
                     "check what relying parties get through the load balancer"}},
       .json_data =
           {{"issuer", "the issuer id"},
            {"url", "the URL fetched"},
            {"size", "bytes fetched"},
            {"crl_number, this_update, next_update, entries",
             "what the CRL says (absent when it does not parse)"},
            {"generation", "the CA generation that signed it"},
            {"database_revoked_count", "revocations of that generation in the database"},
            {"missing_serials, missing_count",
             "revoked in the database but not listed (first 100, and how many)"},
            {"extra_serials, extra_count",
             "listed but not revoked in the database (first 100, and how many)"}},
       .findings = "the CRL does not parse (crl.unparseable), does not verify "
                   "(crl.bad_signature), is expired (crl.expired), or its serials differ "
                   "from the database (crl.missing_serials, crl.extra_serials)"});
  cmd->callback([&app, &choice, &url] {
    app.SetAction("crl.verify", [&app, &choice, &url] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      std::string from = url.empty() ? ops::CrlUrl(ctx.config, choice.issuer) : url;
      auto der = FetchCrl(app, ctx.config, from);
      if (!der.ok()) return app.Fail(der.status());
      ops::OpReport report;
      auto result = ops::VerifyFetchedCrl(ctx, choice.issuer, from, *der, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderVerify(app, r, result, out);
                 });
    });
  });
}

}  // namespace

void RegisterCrlCommands(AdminApp& app) {
  auto* crl = app.root().add_subcommand("crl", "CRL cache: diagnose, regenerate, verify");
  crl->require_subcommand(1);
  RegisterStatus(app, crl);
  RegisterRegenerate(app, crl);
  RegisterVerify(app, crl);
}

}  // namespace certctl::admin
