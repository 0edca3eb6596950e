// certctl-admin db post-restore: the runbook's "Postgres restore" steps 3-5
// made safe (issue 11): migrations, the published revocations and CRL numbers
// taken back, the caches emptied, the CRLs signed again and checked.
#include "certctl/ops/db_json.h"
#include "certctl/ops/post_restore.h"
#include "certctl/util/time_format.h"
#include "commands.h"
#include "db_commands.h"

namespace certctl::admin {
namespace {

struct PostRestoreFlags {
  std::vector<std::string> crl_files;
  MutationFlags mutation;
};

void RenderPostRestore(const AdminApp& app, const ops::OpReport& r,
                       const Result<ops::DatabasePostRestore>& result,
                       std::ostream& out) {
  if (result.ok() && !result->published.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"PUBLISHED CRL", "GENERATION", "NUMBER", "ENTRIES"}};
    for (const auto& p : result->published) {
      rows.push_back({p.source, p.issuer + "/g" + std::to_string(p.generation),
                      std::to_string(p.number), std::to_string(p.entries)});
    }
    PrintTable(out, rows);
  }
  if (result.ok() && !result->reapplied.empty()) {
    out << (r.dry_run ? "revocations that would be re-applied:\n"
                      : "revocations re-applied:\n");
    std::vector<std::vector<std::string>> rows{
        {"ISSUER", "SERIAL", "REASON", "REVOKED AT"}};
    for (const auto& p : result->reapplied) {
      rows.push_back({p.issuer, p.serial, std::string(RevocationReasonName(p.reason)),
                      FormatRfc3339(p.revoked_at)});
    }
    PrintTable(out, rows, 2);
  }
  PrintPlanStepsFindings(app, r, out);
}

void RunPostRestore(AdminApp& app, PostRestoreFlags& f) {
  auto env = app.Open(/*allow_outdated_schema=*/true);
  if (!env.ok()) return app.Fail(env.status());
  auto ctx = (*env)->Context(&f.mutation);
  ops::OpReport report;
  auto result = ops::PostRestore(ctx, {f.crl_files}, report);
  app.Finish(report, result,
             [&app](const auto& r, const auto& result, std::ostream& out) {
               RenderPostRestore(app, r, result, out);
             });
}

const char kDescription[] =
    "Run this once after restoring the live database from a backup (pg_restore, psql, "
    "or a managed service's point-in-time restore), before certctld serves from it "
    "again. A restore takes the database back in time, but the CRLs published since "
    "the backup are out in the world: without this step certctl would sign CRL "
    "numbers that were already used and drop the revocations made after the backup "
    "(a published revocation must never be undone).\n\n"
    "In one audited step, under the locks db:post-restore and every issuer's crl: and "
    "ocsp-cache: locks (exit 75 while another command or a certctld scheduler holds "
    "one), it: applies pending migrations; re-applies every revocation that a "
    "published CRL lists and the restored database lacks, with the CRL's reason and "
    "date; moves each CA generation's CRL number counter up to the highest number "
    "ever published; deletes every cached CRL and OCSP answer and notifies running "
    "certctld processes (LISTEN/NOTIFY), which drop what they hold in memory; signs "
    "every generation's CRL again; and checks that each new CRL lists every "
    "revocation the published one did, with a higher number. It exits 1 when that "
    "check fails or a published CRL lists a certificate the restored database does "
    "not know (issued after the backup: it can not be revoked again without its "
    "row; the serials are listed, and the affected CRL will miss them).\n\n"
    "Where the published CRLs come from: every time certctl signs a CRL it first "
    "writes, next to the generation's CA key file, <issuer>-g<N>.crl-number (the "
    "highest CRL number ever used, which only goes up) and <issuer>-g<N>.crl (the "
    "CRL itself, 0644), atomically and before the database transaction that "
    "publishes the CRL commits. These files do not depend on the database, so a "
    "restore can not take them back: they are the floor under the CRL number "
    "(RegenerateCrl also never signs a number at or below it) and the proof of what "
    "was published. Back them up with the CA key, keep them on the storage every "
    "replica that signs CRLs uses, and give CRLs published elsewhere (another "
    "replica's host, a CDN, a relying party's copy) with --crl FILE, DER or PEM, "
    "repeatable. A CRL counts only when its signature verifies with the CA "
    "certificate of a generation in the database; a --crl file that does not is exit "
    "2 before anything changes.\n\n"
    "Responder key files and database identity: migration 0007 gives every database "
    "a random identity bound to the physical database (the cluster's system "
    "identifier and the database's OID). Responder key files carry it in their "
    "names, <issuer>-g<N>-<serial>.db-<identity>.key, and certctl writes, retires or "
    "reuses (ocsp reset-responder --keep-key) only files that carry its own "
    "database's identity. A copy made by pg_dump/pg_restore, CREATE DATABASE "
    "TEMPLATE or a file copy keeps the identity row but not the physical database, "
    "so the first time it needs an identity it gets a fresh one: a restored staging "
    "copy on the same host, whose rows name production's key files, makes key files "
    "of its own and never overwrites or retires production's (such a write is "
    "refused with an error naming both identities). A restore into the same "
    "database keeps its identity; one into a database created anew gets a new one, "
    "and the key files written before are then left in place when replaced. Files "
    "named before schema 7 carry no identity: they keep working and are left in "
    "place when replaced.\n\n"
    "With --dry-run it prints exactly which revocations would be re-applied (serial, "
    "reason, date, and the CRL that proves each) and which CRL numbers would move, "
    "and changes nothing.";

}  // namespace

void RegisterDbPostRestore(AdminApp& app, CLI::App* db) {
  auto& f = app.Make<PostRestoreFlags>();
  auto* cmd = db->add_subcommand(
      "post-restore",
      "After a restore: re-apply published revocations, move CRL numbers past the "
      "published ones, empty the caches, re-sign and check the CRLs");
  cmd->add_option("--crl", f.crl_files,
                  "A CRL published before the restore (DER or PEM), besides the ones "
                  "recorded next to the CA keys; repeatable")
      ->type_name("FILE");
  app.AddMutationFlags(cmd, f.mutation);
  app.Document(
      cmd,
      {.description = kDescription,
       .examples = {{"certctl-admin db post-restore --dry-run",
                     "show the revocations that would be re-applied and the CRL numbers "
                     "that would move"},
                    {"certctl-admin db post-restore",
                     "make the restored database safe to serve, then start certctld"},
                    {"curl -so published.crl "
                     "https://pki.example.com/.well-known/pki/crl/iss-local && "
                     "certctl-admin db post-restore --crl published.crl",
                     "also take a CRL fetched from a CDN as published"}},
       .json_data = {{"migrated", "{from_version, to_version, applied}"},
                     {"published",
                      "[{source, issuer, generation, number, entries, this_update}] "
                      "the published CRLs taken as evidence"},
                     {"reapplied",
                      "[{issuer, generation, serial, reason, revoked_at, source}] "
                      "(dry run: would be)"},
                     {"unknown_certificates",
                      "the same, for serials the restored database has no certificate "
                      "of"},
                     {"crl_numbers",
                      "[{issuer, generation, counter, published, next, moved}]"},
                     {"crl_cache_rows_deleted, ocsp_cache_rows_deleted", "counts"},
                     {"regenerated", "the CRLs signed, as crl regenerate gives them"},
                     {"checks",
                      "[{issuer, generation, number, entries, highest_published, "
                      "missing_serials, ok}]"}},
       .findings =
           "a new CRL lacks a published revocation or its number is not above the "
           "published ones (post_restore.revocation_missing); a published CRL lists a "
           "certificate the restored database does not hold "
           "(post_restore.unknown_certificate); a recorded CRL file does not verify "
           "(post_restore.published_crl_unusable). Warning: the database holds a "
           "published revocation with another reason (post_restore.reason_differs)",
       .mutating = true});
  cmd->callback([&app, &f] {
    app.SetAction("db.post-restore", [&app, &f] { RunPostRestore(app, f); });
  });
}

}  // namespace certctl::admin
