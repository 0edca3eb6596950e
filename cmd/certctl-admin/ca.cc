// certctl-admin ca: the runbook's "CA private-key rotation" section and its
// DR checklist items (CA notAfter > 1y, CA keys backed up). This file holds
// the group and `ca status`; ca_backup.cc holds `ca backup`, ca_rotate.cc
// `ca rotate`.
#include <cstdio>

#include "ca_commands.h"
#include "certctl/ops/ca_json.h"
#include "certctl/ops/ca_status.h"
#include "certctl/util/time_format.h"
#include "commands.h"

namespace certctl::admin {
namespace {

std::string Days(std::chrono::seconds s) {
  int64_t days = s.count() / 86400;
  if (s.count() <= 0) return "expired " + std::to_string(-days) + "d ago";
  return std::to_string(days) + "d left";
}

std::string Headline(const ops::CaGenerationStatus& g) {
  if (g.state == GenerationState::kActive) return "active";
  if (g.state == GenerationState::kPending) return "pending (a rotation brings it in)";
  return g.can_be_archived ? "retired, can be archived" : "retired, still signing";
}

std::string KeyFileLine(const ops::CaKeyFile& k) {
  if (!k.exists) return k.path + " (" + k.problem + ")";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o",
                static_cast<unsigned>(k.mode.value_or(0) & 07777));
  std::string line = k.path + " (" + mode + ", owner " + k.owner.value_or("?");
  line += k.problem.empty() ? ", matches the certificate)" : "): " + k.problem;
  return line;
}

std::string CoverLine(const ops::CaGenerationStatus& g) {
  std::string line = std::to_string(g.unexpired_certificates);
  if (g.last_certificate_expiry) {
    line += " (the last expires " + FormatRfc3339(*g.last_certificate_expiry) + ")";
  }
  return line;
}

std::string ResponderLine(const ops::CaResponderState& r) {
  if (!r.serial) return r.verdict;
  return r.verdict + " (serial " + *r.serial + ", until " + FormatRfc3339(*r.not_after) +
         ")";
}

std::string CrlLine(const ops::CaCrlState& c) {
  if (!c.crl_number) return c.verdict;
  return c.verdict + " (number " + std::to_string(*c.crl_number) + ", next update " +
         FormatRfc3339(*c.next_update) + ")";
}

std::string BackupLine(const std::optional<ops::CaBackupRecord>& b) {
  if (!b) return "none recorded";
  return "backup " + std::to_string(b->id) + " of " + FormatRfc3339(b->created_at) +
         " by " + b->created_by + " in " + b->directory;
}

void RenderGeneration(const AdminApp& app, const std::string& issuer,
                      const ops::CaGenerationStatus& g, std::ostream& out) {
  out << issuer << " generation " << g.generation << ": " << Headline(g) << "\n";
  PrintFields(out,
              {{"subject", g.subject},
               {"key type", g.key_type},
               {"serial", g.serial},
               {"fingerprint", g.fingerprint_sha256},
               {"valid", FormatRfc3339(g.not_before) + " to " +
                             FormatRfc3339(g.not_after) + " (" + Days(g.time_left) +
                             ", " + app.PaintVerdict(ops::CaExpiryName(g.expiry)) + ")"},
               {"key file", KeyFileLine(g.key_file)},
               {"unexpired certificates", CoverLine(g)},
               {"responder", ResponderLine(g.responder)},
               {"crl", CrlLine(g.crl)},
               {"backup", BackupLine(g.backup)}},
              2);
}

void RenderStatus(const AdminApp& app, const ops::OpReport& r,
                  const Result<ops::CaStatus>& result, std::ostream& out) {
  if (result.ok()) {
    for (const auto& issuer : result->issuers) {
      for (const auto& g : issuer.generations)
        RenderGeneration(app, issuer.issuer, g, out);
    }
  }
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << " ["
        << f.code << "]\n";
  }
  if (result.ok() && r.findings.empty()) out << app.PaintVerdict("ok") << "\n";
}

// A --warning-within/--critical-within value, or the configured default.
Result<std::chrono::seconds> Threshold(const std::string& flag, const std::string& value,
                                       std::chrono::seconds configured) {
  if (value.empty()) return configured;
  auto d = ParseDuration(value);
  if (!d.ok()) return Status::InvalidArgument(flag + ": " + d.status().message());
  return *d;
}

CLI::Option* AddDuration(CLI::App* cmd, const std::string& name, std::string& value,
                         const std::string& help) {
  return cmd->add_option(name, value, help)
      ->type_name("DURATION")
      ->check([](const std::string& v) {
        auto d = ParseDuration(v);
        return d.ok() ? std::string() : d.status().message();
      });
}

const char kStatusDescription[] =
    "Shows every CA generation of the issuer (or of every issuer): its subject, key "
    "type, serial and fingerprint; its validity and the time left, judged against "
    "two thresholds (a warning under ca_expiry_warning, 365d by default; an error under "
    "ca_expiry_critical, 90d); its state; its key file with mode and owner and whether "
    "it holds the certificate's key; how many unexpired certificates it issued (a "
    "retired generation keeps signing CRLs and OCSP answers for them); its OCSP "
    "responder and cached CRL, judged as `ocsp status` and `crl status` judge them; "
    "and the newest recorded `ca backup` that holds it.\n\nA retired generation whose "
    "certificates have all expired signs nothing any more and is reported as \"can be "
    "archived\". A rotation that was started and not finished is an error finding on "
    "its own: resume or abort it with `ca rotate`.\n\nThis is the runbook's quarterly "
    "check \"verify CA cert NotAfter > 1y\" and its backup items. It only reads.";

void Run(AdminApp& app, const IssuerChoice& choice, const std::string& warning,
         const std::string& critical) {
  auto env = app.Open();
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context();
  ops::CaExpiryThresholds t = ops::ExpiryThresholdsFrom(ctx.config);
  auto w = Threshold("--warning-within", warning, t.warning);
  auto c = Threshold("--critical-within", critical, t.critical);
  if (!w.ok()) return app.Fail(w.status());
  if (!c.ok()) return app.Fail(c.status());
  ops::OpReport report;
  auto result = ops::DescribeCa(ctx, choice.all ? "" : choice.issuer, {*w, *c}, report);
  app.Finish(report, result,
             [&app](const auto& r, const auto& result, std::ostream& out) {
               RenderStatus(app, r, result, out);
             });
}

}  // namespace

void RegisterCaStatus(AdminApp& app, CLI::App* ca) {
  auto& choice = app.Make<IssuerChoice>();
  auto& warning = app.Make<std::string>();
  auto& critical = app.Make<std::string>();
  auto* cmd = ca->add_subcommand(
      "status", "Check the CA generations: expiry, keys, responders, CRLs, backups");
  AddIssuerArgument(cmd, choice, true,
                    "Every issuer (the default when no ISSUER is given)");
  AddDuration(cmd, "--warning-within", warning,
              "Warn when the active CA certificate has less than this left (default: "
              "ca_expiry_warning, 365d)");
  AddDuration(cmd, "--critical-within", critical,
              "An error (exit status 1) when it has less than this left (default: "
              "ca_expiry_critical, 90d)");
  app.Document(
      cmd,
      {.description = kStatusDescription,
       .examples =
           {{"certctl-admin ca status iss-local", "every generation of the local issuer"},
            {"certctl-admin ca status --all --critical-within 365d",
             "the quarterly DR check: exit status 1 when a CA has less than a "
             "year left"},
            {"certctl-admin ca status -o json | jq '.data.issuers[].generations[] "
             "| {generation, expiry, seconds_left}'",
             "time left per generation, for monitoring"}},
       .json_data =
           {{"thresholds", "{warning, critical}: the thresholds applied"},
            {"issuers",
             "[{issuer, unfinished_rotation (null, or {id, from_generation, "
             "to_generation, mode, step, state, started_at, started_by}), generations: "
             "[{generation, state, subject, key_type, serial, "
             "fingerprint_sha256, not_before, not_after, seconds_left, expiry "
             "(ok, warning, critical, expired), key_file: {path, exists, mode, "
             "owner, algorithm, matches_certificate, problem}, "
             "unexpired_certificates, last_certificate_expiry, can_be_archived, "
             "responder: {verdict, serial, not_after}, crl: {verdict, "
             "crl_number, next_update}, backup (null, or {id, directory, "
             "created_at, created_by})}]}]"}},
       .findings =
           "an error finding: the active CA certificate has less than the critical "
           "threshold left (ca.expiring_critical) or has expired (ca.expired); a key "
           "file of a generation that still signs is missing, unreadable, not the "
           "certificate's key or readable by others (ca.key_missing, ca.key_unreadable, "
           "ca.key_mismatch, ca.key_mode); a responder or CRL problem (ocsp.*, crl.*, "
           "as `ocsp status` and `crl status` report them); an unfinished rotation "
           "(ca.rotation_unfinished). Warnings (ca.expiring under the warning threshold, "
           "ca.backup_missing) are shown and leave the exit status 0"});
  cmd->callback([&app, &choice, &warning, &critical] {
    app.SetAction("ca.status", [&app, &choice, &warning, &critical] {
      Run(app, choice, warning, critical);
    });
  });
}

void RegisterCaCommands(AdminApp& app) {
  auto* ca = app.root().add_subcommand("ca", "CA generations: status, backup, rotate");
  ca->require_subcommand(1);
  RegisterCaStatus(app, ca);
  RegisterCaBackup(app, ca);
  RegisterCaRotate(app, ca);
}

}  // namespace certctl::admin
