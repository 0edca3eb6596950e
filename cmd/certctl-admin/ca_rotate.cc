// certctl-admin ca rotate: the runbook's "CA private-key rotation" as one
// command (ops::RotateCa).
#include "certctl/ops/ca_rotate.h"

#include "ca_commands.h"
#include "certctl/ops/ca_rotate_json.h"
#include "commands.h"

namespace certctl::admin {
namespace {

// The flags bind straight into the request; RequestFrom works out the
// action and mode they add up to.
struct RotateFlags {
  ops::RotateRequest request;
  bool resume = false;
  bool abort = false;
};

// The action and mode the flags make; InvalidArgument (exit 2) when they do
// not go together.
Result<ops::RotateRequest> RequestFrom(const RotateFlags& f, const CLI::App& cmd) {
  ops::RotateRequest r = f.request;
  bool import = !r.cert_file.empty() || !r.key_file.empty();
  bool sub_ca = !r.csr_out.empty();
  bool signed_cert = !r.signed_cert_file.empty();
  int actions =
      int(import) + int(sub_ca) + int(signed_cert) + int(f.resume) + int(f.abort);
  if (actions > 1) {
    return Status::InvalidArgument(
        "give at most one of --cert/--key (import), --csr-out (sub-CA), --import-signed, "
        "--resume and --abort");
  }
  bool makes_key = cmd.count("--key-type") || cmd.count("--subject");
  if ((import || signed_cert || f.resume || f.abort) && makes_key) {
    return Status::InvalidArgument(
        "--key-type and --subject go with generate mode and --csr-out only");
  }
  if (cmd.count("--validity") && actions > 0) {
    return Status::InvalidArgument("--validity goes with generate mode only");
  }
  if (!r.chain_file.empty() && !signed_cert) {
    return Status::InvalidArgument("--chain goes with --import-signed");
  }
  bool starts = !(signed_cert || f.resume || f.abort);
  if (!starts && !r.backup_dir.empty()) {
    return Status::InvalidArgument("--backup-dir goes with the start of a rotation");
  }
  r.action = f.resume      ? ops::RotationAction::kResume
             : f.abort     ? ops::RotationAction::kAbort
             : signed_cert ? ops::RotationAction::kImportSigned
                           : ops::RotationAction::kStart;
  r.mode = import                    ? ops::RotationMode::kImport
           : (sub_ca || signed_cert) ? ops::RotationMode::kSubCa
                                     : ops::RotationMode::kGenerate;
  return r;
}

std::string Question(const ops::RotateRequest& r) {
  switch (r.action) {
    case ops::RotationAction::kResume:
      return "Finish the unfinished CA rotation of " + r.issuer + "?";
    case ops::RotationAction::kAbort:
      return "Abort the unfinished CA rotation of " + r.issuer +
             " and make its previous CA generation active again?";
    case ops::RotationAction::kImportSigned:
      return "Import the signed certificate and make it the active CA of " + r.issuer +
             "?";
    case ops::RotationAction::kStart:
      break;
  }
  return "Rotate the CA of " + r.issuer + " to a new generation (" +
         std::string(ops::RotationModeName(r.mode)) + ")?";
}

void RenderRotation(const AdminApp& app, const ops::OpReport& report,
                    const Result<ops::CaRotation>& result, std::ostream& out) {
  PrintPlanStepsFindings(app, report, out);
  if (!result.ok()) return;
  const ops::CaRotation& r = *result;
  std::string to = r.to_generation ? std::to_string(r.to_generation) : "-";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"rotation", r.id ? std::to_string(r.id) : "-"},
      {"state", r.state},
      {"generations", std::to_string(r.from_generation) + " -> " + to},
      {"old fingerprint", r.old_fingerprint},
      {"new fingerprint", r.new_fingerprint.empty() ? "-" : r.new_fingerprint},
      {"key file", r.key_path},
      {"certificate file", r.cert_path}};
  if (!r.csr_path.empty()) fields.emplace_back("CSR file", r.csr_path);
  if (!r.backup_path.empty()) fields.emplace_back("backup", r.backup_path);
  PrintFields(out, fields);
  std::vector<std::vector<std::string>> rows = {{"STEP", "STATE", "ATTEMPTS"}};
  for (const auto& s : r.steps) {
    rows.push_back({s.name, s.state, s.attempts ? std::to_string(s.attempts) : "-"});
  }
  PrintTable(out, rows);
  if (!r.next.empty()) out << "next: " << r.next << "\n";
}

const char kDescription[] =
    "Adds a CA generation to ISSUER and makes it active, on a running system: no "
    "restart, nothing lost. Certificates the old generation issued stay checkable: it "
    "keeps signing OCSP answers (with its own responder certificate) and its own CRL, "
    "at the URL its certificates carry, until the last of them expires. New "
    "certificates chain to the new generation.\n\n"
    "Three modes. Generate (the default): a new key (--key-type, default ec-p256) and "
    "a self-signed CA certificate valid for --validity (default 10y), with "
    "basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both critical) and a "
    "subject key identifier; its subject is the active generation's unless --subject "
    "is given (RFC 4514, as `openssl x509 -nameopt RFC2253` prints it). Import (--cert "
    "and --key): a CA made elsewhere, an offline root or an HSM export; it is refused, "
    "with the reason and exit 2, changing nothing, when it is not a CA, lacks "
    "keyCertSign or cRLSign, does not match the key, is expired or not yet valid, "
    "expires before a certificate issued now would (certificate_default_validity_days), "
    "or already is a generation of the issuer. Sub-CA (--csr-out FILE): a new key and "
    "a CSR for the parent CA to sign; the rotation stops in state awaiting-signature, "
    "and `--import-signed CERT [--chain FILE]` checks the signed certificate (it is for "
    "the pending key, a CA with the right usages, valid, and chains to the parent in "
    "FILE) and finishes.\n\n"
    "The steps, each recorded in the rotation journal in the database before it is "
    "taken: back up every generation's certificate and key into a new directory under "
    "--backup-dir (required); write the new key next to the active generation's key, "
    "as <dir>/ISSUER-ca-g<N>.key (mode 0600, atomically, never over a file) and .crt; "
    "register generation N (pending); bootstrap its OCSP responder; sign its first CRL; "
    "switch issuance (one transaction retires the old generation, makes N active and "
    "notifies running certctld processes, which load it without a restart); notify "
    "them again; verify, by issuing a one-day test certificate, checking its chain and "
    "OCSP answer, revoking it and checking the new generation's CRL and OCSP say so.\n\n"
    "A rotation interrupted at any step (killed, power loss, database gone) stays "
    "unfinished and is reported by every `ca` command. --resume finishes it from the "
    "first step not done; --abort makes the previous generation active again (the new "
    "one, if registered, is retired and keeps serving what it issued) and deletes no "
    "file. A second rotation while one is unfinished is refused.\n\n"
    "Configuration: the database is the source of truth once an issuer exists. Each "
    "generation's row names its key file and holds its certificate; "
    "CERTCTL_CA_CERT_PATH and CERTCTL_CA_KEY_PATH register generation 1 on a fresh "
    "database and afterwards must be the files of some generation of the issuer, "
    "active or retired. So the configuration in place before a rotation keeps working, "
    "unchanged, after it: certctld logs which generation is active and where its key "
    "is (certctld(8)). Generation numbers are never reused, also after --abort.\n\n"
    "The command takes the issuer's CA lock (the one `ca backup` and certctld's CA "
    "registration take) and writes ca.rotate audit events when it starts and ends, "
    "with the old and new certificates' SHA-256 fingerprints. It changes the CA, so it "
    "asks for confirmation.";

void RegisterRotate(AdminApp& app, CLI::App* ca) {
  auto& f = app.Make<RotateFlags>();
  auto& flags = app.Make<MutationFlags>();
  auto* cmd = ca->add_subcommand("rotate", "Add a CA generation and make it active");
  cmd->add_option("ISSUER", f.request.issuer, "The issuer id, e.g. iss-local")
      ->required()
      ->type_name("");
  app.Choices(cmd->add_option("--key-type", f.request.key_type,
                              "Generate and sub-CA modes: the new key's type")
                  ->capture_default_str(),
              {"ec-p256", "ec-p384", "rsa-3072", "rsa-4096", "ed25519"});
  cmd->add_option("--validity", f.request.validity,
                  "Generate mode: how long the new CA certificate is valid (<n>y or "
                  "<n>d)")
      ->capture_default_str()
      ->type_name("DURATION");
  cmd->add_option("--subject", f.request.subject,
                  "Generate and sub-CA modes: the new CA's subject, RFC 4514 "
                  "(default: the active generation's)")
      ->type_name("DN");
  cmd->add_option("--cert", f.request.cert_file,
                  "Import mode: the new CA certificate (PEM)")
      ->type_name("FILE");
  cmd->add_option("--key", f.request.key_file,
                  "Import mode: its private key (PEM, mode 0600 or stricter)")
      ->type_name("FILE");
  cmd->add_option("--csr-out", f.request.csr_out,
                  "Sub-CA mode: write a CSR here (never over a file) and wait for it to "
                  "be signed")
      ->type_name("FILE");
  cmd->add_option("--import-signed", f.request.signed_cert_file,
                  "Sub-CA mode: the signed certificate; checks it and finishes")
      ->type_name("CERT");
  cmd->add_option("--chain", f.request.chain_file,
                  "With --import-signed: the parent CA's certificates up to the root "
                  "(PEM)")
      ->type_name("FILE");
  cmd->add_option("--backup-dir", f.request.backup_dir,
                  "Back up the issuer's CA material into a new directory under DIR "
                  "first (required to start; created 0700 if missing)")
      ->type_name("DIR");
  cmd->add_flag("--resume", f.resume, "Finish the issuer's unfinished rotation");
  cmd->add_flag("--abort", f.abort,
                "Undo the issuer's unfinished rotation: its previous generation "
                "becomes active again; no file is deleted");
  app.AddMutationFlags(cmd, flags);
  app.Document(
      cmd,
      {.description = kDescription,
       .examples =
           {{"certctl-admin ca rotate iss-local --backup-dir /var/backups/certctl "
             "--dry-run",
             "show the plan: files to write, rows to add, what certctld will do"},
            {"certctl-admin ca rotate iss-local --backup-dir /var/backups/certctl "
             "--key-type ec-p384 --validity 10y --yes",
             "generate mode: a new P-384 CA with the current subject"},
            {"certctl-admin ca rotate iss-local --backup-dir /var/backups/certctl "
             "--cert offline-root.crt --key offline-root.key --yes",
             "import mode: a CA made elsewhere"},
            {"certctl-admin ca rotate iss-local --backup-dir /var/backups/certctl "
             "--csr-out /tmp/iss-local-g2.csr --subject 'CN=certctl Issuing CA "
             "G2,O=example' --yes",
             "sub-CA mode, first half: a new key and a CSR for the parent CA"},
            {"certctl-admin ca rotate iss-local --import-signed /tmp/iss-local-g2.crt "
             "--chain /tmp/root.crt --yes",
             "sub-CA mode, second half: check the signed certificate and finish"},
            {"certctl-admin ca rotate iss-local --resume --yes",
             "finish a rotation that was interrupted"},
            {"certctl-admin ca rotate iss-local --abort --yes",
             "go back to the previous generation"}},
       .json_data =
           {{"issuer", "the issuer id"},
            {"rotation", "the rotation's id in the journal (0 in a dry run of a start)"},
            {"mode", "generate, import or sub-ca"},
            {"state",
             "running, awaiting-signature, completed or aborted; planned in a "
             "dry run"},
            {"from_generation", "the generation active before"},
            {"to_generation", "the new generation"},
            {"old_fingerprint", "SHA-256 of the old CA certificate"},
            {"new_fingerprint", "SHA-256 of the new one, \"\" while unknown"},
            {"key_path", "the new key file"},
            {"cert_path", "the new certificate file"},
            {"csr_path", "sub-CA: the CSR file, else \"\""},
            {"backup_path", "the backup directory, once written"},
            {"steps",
             "[{name, state (done, interrupted, to do), attempts, begun_at, done_at, "
             "detail}]"},
            {"test_serials", "the verify step's test certificates (revoked)"},
            {"next", "what to do next, \"\" when nothing"},
            {"plan", "dry run: {files, rows, daemons}; else null"}},
       .findings = "sub-CA without --chain: the parent's signature was not checked "
                   "(ca.chain_not_checked, a warning); after --abort, the active "
                   "generation's key "
                   "cannot be used (ca.key_unusable)",
       .mutating = true,
       .destructive = true});
  cmd->callback([&app, &f, &flags, cmd] {
    app.SetAction("ca.rotate", [&app, &f, &flags, cmd] {
      auto request = RequestFrom(f, *cmd);
      if (!request.ok()) return app.Fail(request.status());
      Status confirmed = app.Confirm(flags, Question(*request));
      if (!confirmed.ok()) return app.Fail(confirmed);
      auto env = app.Open();
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&flags);
      ops::OpReport report;
      auto result = ops::RotateCa(ctx, *request, report);
      app.Finish(report, result,
                 [&app](const auto& r, const auto& result, std::ostream& out) {
                   RenderRotation(app, r, result, out);
                 });
    });
  });
}

}  // namespace

void RegisterCaRotate(AdminApp& app, CLI::App* ca) { RegisterRotate(app, ca); }

}  // namespace certctl::admin
