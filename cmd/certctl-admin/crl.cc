// certctl-admin crl: the runbook's "CRL cache recovery" section.
#include "certctl/ops/certificate_ops.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "commands.h"

namespace certctl::admin {
namespace {

void RenderStatus(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  if (r.data.contains("issuers")) {
    for (const auto& issuer : r.data["issuers"]) {
      for (const auto& g : issuer.value("generations", nlohmann::json::array())) {
        out << issuer.value("issuer", "?") << " generation " << Cell(g["generation"])
            << ": " << app.PaintVerdict(g.value("verdict", "?")) << "\n";
        nlohmann::json fields = nlohmann::json::object();
        fields["cached CRL"] = g.contains("cache") && !g["cache"].is_null()
                                   ? g["cache"]
                                   : nlohmann::json("none");
        if (g.contains("database_revoked_count")) {
          fields["revoked in database"] = g["database_revoked_count"];
        }
        if (g.contains("events") && !g["events"].empty()) {
          fields["recent generation events"] = g["events"];
        }
        PrintObject(out, fields, 2);
      }
    }
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << "\n";
  }
}

void RenderRegenerate(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (r.dry_run) return;
  for (const auto& issuer : r.data.value("issuers", nlohmann::json::array())) {
    if (issuer.contains("next_fetch")) {
      out << issuer.value("issuer", "?") << ": next fetch: " << Cell(issuer["next_fetch"])
          << "\n";
    }
    std::vector<std::vector<std::string>> rows{
        {"ISSUER", "GEN", "CRL NUMBER", "REVOKED", "SIZE", "THIS UPDATE", "NEXT UPDATE"}};
    for (const auto& c : issuer.value("crls", nlohmann::json::array())) {
      rows.push_back({issuer.value("issuer", "?"), Cell(c["generation"]),
                      Cell(c["crl_number"]), Cell(c["revoked_count"]), Cell(c["size"]),
                      Cell(c["this_update"]), Cell(c["next_update"])});
    }
    if (rows.size() > 1) PrintTable(out, rows);
  }
}

void RenderVerify(const AdminApp& app, const ops::OpReport& r, std::ostream& out) {
  PrintObject(out, r.data);
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.message << " [" << f.code << "]\n";
  }
  if (r.status.ok() && !r.has_errors())
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
      (void)ops::DescribeCrls(ctx, choice.all ? "" : choice.issuer, events, report);
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderStatus(app, r, out);
      });
    });
  });
}

ops::OpReport RegenerateOne(ops::OpContext& ctx, const std::string& issuer,
                            bool invalidate_only) {
  ops::OpReport part;  // both set target and data["issuer"], also on failure
  if (invalidate_only) {
    (void)ops::InvalidateCrlCache(ctx, issuer, part);
  } else {
    (void)ops::RegenerateCrl(ctx, issuer, ops::CrlTrigger::kAdmin, part);
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
      std::vector<ops::OpReport> parts;
      for (const auto& issuer : issuers)
        parts.push_back(RegenerateOne(ctx, issuer, invalidate_only));
      auto report = CombineReports(invalidate_only ? "crl.invalidate" : "crl.regenerate",
                                   choice.all ? "*" : choice.issuer, parts, "issuers");
      report.dry_run = flags.dry_run;
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderRegenerate(app, r, out);
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
      (void)ops::VerifyFetchedCrl(ctx, choice.issuer, *der, report);
      report.data["url"] = from;
      app.Finish(report, [&app](const ops::OpReport& r, std::ostream& out) {
        RenderVerify(app, r, out);
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
