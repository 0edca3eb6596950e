// certctl-admin ocsp: the runbook's "OCSP responder cert recovery" section
// and the check behind "OCSP response cache recovery".
#include "certctl/ops/key_files.h"
#include "certctl/ops/key_files_json.h"
#include "certctl/ops/ocsp_json.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

// The responder certificate, key file and history of one generation.
void RenderGeneration(const std::string& issuer, const ops::GenerationResponders& g,
                      std::ostream& out) {
  out << issuer << " generation " << g.generation << " (" << GenerationStateName(g.state)
      << ")\n";
  nlohmann::json fields = nlohmann::json::object();
  fields["responder certificate"] =
      g.responder ? ops::ToJson(*g.responder) : nlohmann::json("none");
  fields["key file"] = ops::ToJson(g.key_file);
  if (!g.history.empty()) {
    nlohmann::json history = nlohmann::json::array();
    for (const auto& h : g.history) history.push_back(ops::ToJson(h));
    fields["recent rotations"] = history;
  }
  PrintObject(out, fields, 2);
}

void RenderStatus(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::ResponderStatus>& result, std::ostream& out) {
  if (result.ok()) {
    for (const auto& g : result->generations) RenderGeneration(result->issuer, g, out);
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << " ["
        << f.code << "]\n";
  }
  if (result.ok() && r.findings.empty()) out << app.PaintVerdict("ok") << "\n";
}

void RenderReset(const AdminApp& app, const ops::OpReport& r,
                 const Result<ops::ResponderReset>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (r.dry_run || !result.ok()) return;
  out << "new responder certificate:\n";
  PrintObject(
      out, result->responder ? ops::ToJson(*result->responder) : nlohmann::json(nullptr),
      2);
}

std::string OrDash(const std::optional<std::string>& v) { return v ? *v : "-"; }
std::string OrDash(const std::optional<TimePoint>& t) {
  return t ? FormatRfc3339(*t) : "-";
}

void RenderCheck(const AdminApp& app, const ops::OpReport& r,
                 const Result<ops::OcspAnswerCheck>& result, std::ostream& out) {
  if (!result.ok()) return;
  const ops::CertificateStatus& db = result->database;
  const auto& answer = result->responder;
  PrintTable(
      out,
      {{"", "STATUS", "REASON", "REVOKED AT"},
       {"database", app.PaintVerdict(OcspCertStatusName(db.status)), OrDash(db.reason),
        OrDash(db.revoked_at)},
       {"responder",
        app.PaintVerdict(answer ? OcspCertStatusName(answer->certificate.status) : "?"),
        answer ? OrDash(answer->certificate.reason) : "-",
        answer ? OrDash(answer->certificate.revoked_at) : "-"}});
  if (answer) {
    PrintFields(out,
                {{"answer from", std::string(ops::OcspAnswerSourceName(answer->source))},
                 {"signed by", answer->responder},
                 {"produced at", FormatRfc3339(answer->produced_at)},
                 {"next update", OrDash(answer->next_update)}});
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.message << " [" << f.code << "]\n";
  }
  if (!r.has_errors()) out << app.PaintVerdict("ok") << ": they agree\n";
}

void RegisterStatus(AdminApp& app, CLI::App* ocsp) {
  auto& choice = app.Make<IssuerChoice>();
  auto* cmd =
      ocsp->add_subcommand("status", "Diagnose the OCSP responder certificate and key");
  AddIssuerArgument(cmd, choice, false);
  app.Document(
      cmd,
      {.description =
           "Shows the delegated OCSP responder of each CA generation of the issuer: the "
           "certificate (subject, serial, validity, whether it carries OCSPSigning and "
           "id-pkix-ocsp-nocheck, whether the current CA generation issued it), its key "
           "file (present, mode 0600, owner, matches the certificate) and the recent "
           "rotations from the history table, so a quarterly check can see that rotation "
           "fired.\n\nThis replaces the runbook's psql query and `ls -la` of the key "
           "directory. It only reads.",
       .examples = {{"certctl-admin ocsp status iss-local", "is the responder healthy?"},
                    {"certctl-admin ocsp status iss-local -o json | jq "
                     "'.data.generations[0].history'",
                     "when did it last rotate?"}},
       .json_data =
           {{"issuer", "the issuer id"},
            {"generations",
             "[{generation, state, responder: {serial, subject, not_before, not_after, "
             "created_at, key_path, ocsp_signing, ocsp_nocheck, digital_signature, "
             "issued_by_generation, key_algorithm} or null, key_file: {path, exists, "
             "mode, owner, matches_certificate}, history: [...]}]"}},
       .findings =
           "the responder row or key file is missing, the key is unreadable, has the "
           "wrong mode or does not match, the certificate is expired, has the wrong "
           "profile or was issued by another CA (ocsp.responder_missing, "
           "ocsp.key_missing, ocsp.key_mode, ocsp.key_mismatch, ...)"});
  cmd->callback([&app, &choice] {
    app.SetAction("ocsp.status", [&app, &choice] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto result = ops::DescribeOcspResponder(ctx, choice.issuer, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderStatus(app, r, result, out);
                 });
    });
  });
}

void RegisterReset(AdminApp& app, CLI::App* ocsp) {
  auto& choice = app.Make<IssuerChoice>();
  auto& keep_key = app.Make<bool>();
  auto& url = app.Make<std::string>();
  auto& flags = app.Make<MutationFlags>();
  auto* cmd = ocsp->add_subcommand("reset-responder",
                                   "Replace the OCSP responder certificate (and key)");
  AddIssuerArgument(cmd, choice, false);
  cmd->add_flag(
      "--keep-key", keep_key,
      "Keep the existing responder key file and only issue a new certificate for it");
  cmd->add_option("--url", url,
                  "Afterwards, also query this live responder (e.g. "
                  "http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local) and check that "
                  "it signs with the new certificate")
      ->type_name("URL");
  app.AddMutationFlags(cmd, flags);
  app.Document(
      cmd,
      {.description =
           "Generates a new ECDSA P-256 responder key (unless --keep-key) and has the "
           "issuer's active CA generation sign a new responder certificate (OCSPSigning, "
           "id-pkix-ocsp-nocheck, digitalSignature). The new key goes to a file of its "
           "own, <key dir>/<issuer>-g<generation>-<serial>.db-<identity>.key "
           "(atomically, mode 0600, never over an existing file), while the key in use "
           "stays where it is. One "
           "transaction then makes the new certificate current (the old row copied to "
           "the history), deletes the issuer's cached OCSP answers and notifies every "
           "certctld to drop its in-memory copies. Only then is the old key file "
           "retired: renamed to <file>.bak-<UTC time>, never deleted. Before writing, "
           "it removes the temporary files (.<name>.tmp-XXXXXX) that interrupted key "
           "writes of this generation left behind.\n\nKilled at any moment, the "
           "database names a key file that holds its key. If the database write fails, "
           "it exits 69 (database unreachable) or 70 (any other error) and the previous "
           "responder stays in use, its row and key file unchanged; the new key file is "
           "removed again, or, when the database cannot say whether the write went "
           "through, left unused and named in the error (no row names it; it may be "
           "deleted). Rerun the command to finish. The result is verified by loading "
           "the key file the database names, signing a test answer and checking it with "
           "the CA certificate, and with --url also by querying the live "
           "responder.\n\nKey files and database identity: <identity> is this "
           "database's random identity (migration 0007), bound to the physical database "
           "(the cluster's system identifier and the database's OID). The command "
           "writes, retires or keeps (--keep-key) only files whose name carries this "
           "database's identity; anything else is refused (exit 78) naming the file and "
           "both identities, or, for a replaced file, left in place. So a restored copy "
           "of production on the same host (a staging or scratch database, whose rows "
           "name production's key files) can never overwrite or retire production's "
           "live key: a copy keeps the identity row but not the physical database, and "
           "gets a fresh identity the first time it needs one. Files named before "
           "schema 7 carry no identity; they keep working and are left in place when "
           "replaced. See certctl-admin-db-post-restore(1).\n\nThis is the runbook's "
           "\"delete the responder row and key "
           "file, then trigger the bootstrap\" in one locked, audited step. It replaces "
           "a key, so it asks for confirmation.",
       .examples = {{"certctl-admin ocsp reset-responder iss-local --dry-run",
                     "show the plan"},
                    {"certctl-admin ocsp reset-responder iss-local --yes --url "
                     "http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local",
                     "replace the responder and check that certctld uses it"}},
       .json_data = {{"issuer", "the issuer id"},
                     {"generation", "the CA generation whose responder was replaced"},
                     {"keep_key", "whether the key was kept"},
                     {"key_path",
                      "the new responder key file (the kept one with --keep-key)"},
                     {"key_backup", "where the replaced key file was retired, or \"\""},
                     {"old_serial", "the replaced certificate's serial, or \"\""},
                     {"responder",
                      "the new certificate: {serial, subject, not_before, not_after, "
                      "created_at, key_path}"},
                     {"ocsp_rows_deleted", "cached OCSP answers dropped"},
                     {"verified", "whether the test answer verified"},
                     {"live_check", "with --url: the live answer, as in `ocsp check`"}},
       .findings =
           "with --url, the live responder does not sign with the new certificate",
       .mutating = true,
       .destructive = true});
  cmd->callback([&app, &choice, &keep_key, &url, &flags] {
    app.SetAction("ocsp.reset-responder", [&app, &choice, &keep_key, &url, &flags] {
      Status confirmed = app.Confirm(
          flags, "Replace the OCSP responder " +
                     std::string(keep_key ? "certificate" : "key and certificate") +
                     " of " + choice.issuer + "?");
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&flags);
      std::optional<ops::LiveResponder> live;
      if (!url.empty()) {
        auto client = app.HttpClientFor(ctx.config);
        if (!client.ok()) return app.Fail(client.status());
        live = ops::LiveResponder{url, ops::HttpOcspFetcher(*client, url)};
      }
      ops::OpReport report;
      auto result = ops::ResetOcspResponder(ctx, choice.issuer, keep_key, report, live);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderReset(app, r, result, out);
                 });
    });
  });
}

void RegisterCheck(AdminApp& app, CLI::App* ocsp) {
  auto& choice = app.Make<IssuerChoice>();
  auto& serial = app.Make<std::string>();
  auto& url = app.Make<std::string>();
  auto* cmd = ocsp->add_subcommand(
      "check", "Compare the OCSP answer for a serial with the database");
  AddIssuerArgument(cmd, choice, false);
  cmd->add_option("SERIAL", serial,
                  "The certificate serial, in hex (any case, leading zeros allowed)")
      ->required()
      ->type_name("");
  cmd->add_option("--url", url,
                  "Ask this live responder (POST, like `openssl ocsp -url`) instead of "
                  "reading the shared response cache")
      ->type_name("URL");
  app.Document(
      cmd,
      {.description =
           "Asks what the responder answers for SERIAL and compares it with what the "
           "database says (good, revoked with reason and time, or unknown). Without "
           "--url the answer is the one every certctld replica would serve: the row in "
           "the shared OCSP response cache, or a freshly signed one when there is none "
           "(not written back). With --url the request goes to that live responder. The "
           "answer's signature is verified with the CA certificate.\n\nThis detects the "
           "runbook's \"stale good after a revoke\" symptom; `certctl-admin cache "
           "truncate --ocsp --issuer ISSUER --serial SERIAL` fixes it. It only reads.",
       .examples = {{"certctl-admin ocsp check iss-local 3f0a9c...",
                     "does OCSP say revoked?"},
                    {"certctl-admin ocsp check iss-local 3f0a9c... --url "
                     "http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local",
                     "ask the running certctld"}},
       .json_data = {{"issuer", "the issuer id"},
                     {"serial", "the canonical serial"},
                     {"database", "{status, reason, revoked_at}"},
                     {"responder",
                      "{status, reason, revoked_at, this_update, next_update, "
                      "produced_at, responder, responder_serial, source}"}},
       .findings = "the answer disagrees with the database (ocsp.disagreement), does not "
                   "verify (ocsp.unverifiable), is an error response, has no answer for "
                   "the serial, or is expired"});
  cmd->callback([&app, &choice, &serial, &url] {
    app.SetAction("ocsp.check", [&app, &choice, &serial, &url] {
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OcspFetcher fetcher;
      if (!url.empty()) {
        auto client = app.HttpClientFor(ctx.config);
        if (!client.ok()) return app.Fail(client.status());
        fetcher = ops::HttpOcspFetcher(*client, url);
      }
      ops::OpReport report;
      auto result = ops::CheckOcspAnswer(ctx, choice.issuer, serial, fetcher, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderCheck(app, r, result, out);
                 });
    });
  });
}

void RenderPrune(const AdminApp& app, const ops::OpReport& r,
                 const Result<ops::KeyBackupsPruned>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, r, out);
  if (!result.ok()) return;
  if (result->removed.empty() && !r.dry_run) {
    out << "no key backup in " << result->directory << " is older than "
        << FormatDuration(result->retention) << "\n";
  }
  if (!result->kept.empty()) {
    out << "kept " << result->kept.size() << " younger backup(s)\n";
  }
}

void RegisterPruneBackups(AdminApp& app, CLI::App* ocsp) {
  auto& flags = app.Make<MutationFlags>();
  auto* cmd = ocsp->add_subcommand(
      "prune-backups", "Remove replaced responder key files past their retention");
  app.AddMutationFlags(cmd, flags);
  app.Document(
      cmd,
      {.description =
           "A replaced responder key is not deleted: its file is kept as "
           "<file>.bak-<UTC time> in the responder key directory. This command removes "
           "those backups once they are older than key_backup_retention "
           "(CERTCTL_KEY_BACKUP_RETENTION, default 30d), aged by the time in their "
           "name; certctld's upkeep does the same every few hours.\n\nOnly certctl's "
           "own backups are removed: regular files directly in the key directory named "
           "<issuer>-g<N>-<serial>.key.bak-<YYYYMMDDTHHMMSSZ>. A file that a CA "
           "generation or a responder row names as its key is never removed, whatever "
           "its name (a warning says so), and nothing else in the directory is touched. "
           "It deletes key material, so it asks for confirmation.",
       .examples = {{"certctl-admin ocsp prune-backups --dry-run",
                     "which backups are past their retention?"},
                    {"certctl-admin ocsp prune-backups --yes", "remove them"}},
       .json_data = {{"directory", "the responder key directory"},
                     {"retention", "key_backup_retention, e.g. 30d"},
                     {"removed",
                      "[{path, retired_at}] removed (with --dry-run: would be)"},
                     {"kept", "[{path, retired_at}] younger than the retention"},
                     {"named", "paths old enough but named by a row, kept"}},
       .findings = "never (a backup a row names is a warning, keys.backup_named)",
       .mutating = true,
       .destructive = true});
  cmd->callback([&app, &flags] {
    app.SetAction("ocsp.prune-backups", [&app, &flags] {
      Status confirmed =
          app.Confirm(flags, "Remove the responder key backups past their retention?");
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&flags);
      ops::OpReport report;
      auto result = ops::PruneKeyBackups(ctx, ops::PruneTrigger::kCommand, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderPrune(app, r, result, out);
                 });
    });
  });
}

}  // namespace

void RegisterOcspCommands(AdminApp& app) {
  auto* ocsp = app.root().add_subcommand(
      "ocsp", "OCSP responder: diagnose, reset, check answers, prune key backups");
  ocsp->require_subcommand(1);
  RegisterStatus(app, ocsp);
  RegisterReset(app, ocsp);
  RegisterCheck(app, ocsp);
  RegisterPruneBackups(app, ocsp);
}

}  // namespace certctl::admin
