// certctl-admin db: schema migrations and status (post-restore: db_post_restore.cc).
#include "certctl/ops/db_json.h"
#include "certctl/ops/db_ops.h"
#include "certctl/util/time_format.h"
#include "commands.h"
#include "db_commands.h"

namespace certctl::admin {
namespace {

void RenderMigrate(const ops::OpReport& r, const Result<ops::DatabaseMigrated>& result,
                   std::ostream& out) {
  if (r.dry_run) {
    out << (r.plan.empty() ? "schema is current; nothing would change\n"
                           : "would apply:\n");
    for (const auto& p : r.plan) out << "  " << p << "\n";
    return;
  }
  for (const auto& s : r.steps) out << s << "\n";
  if (result.ok()) out << "schema version " << result->to_version << "\n";
}

void RenderStatus(const ops::OpReport& r, const Result<ops::SchemaStatus>& result,
                  std::ostream& out) {
  if (!result.ok()) return;
  for (const auto& f : r.findings) out << f.severity << ": " << f.message << "\n";
  if (!result->known) return;
  PrintFields(out, {{"schema version", std::to_string(result->current_version)},
                    {"this certctl needs", std::to_string(result->latest_version)}});
  std::vector<std::vector<std::string>> rows{{"STATE", "MIGRATION", "APPLIED AT"}};
  for (const auto& a : result->applied) {
    rows.push_back(
        {"applied", a.name, a.applied_at ? FormatRfc3339(*a.applied_at) : "-"});
  }
  for (const auto& p : result->pending) rows.push_back({"pending", p.name, "-"});
  PrintTable(out, rows, 2);
}

}  // namespace

void RegisterDbCommands(AdminApp& app) {
  auto* db = app.root().add_subcommand("db", "Database schema: migrate and inspect");
  db->require_subcommand(1);

  auto& migrate_flags = app.Make<MutationFlags>();
  auto* migrate = db->add_subcommand("migrate", "Apply pending schema migrations");
  app.AddMutationFlags(migrate, migrate_flags, /*locked=*/false);
  app.Document(
      migrate,
      {.description =
           "Applies the schema migrations compiled into this binary that the database "
           "has not seen yet, in order, each in its own transaction, under an advisory "
           "lock so that concurrent runs serialise. Every applied file is recorded in "
           "schema_migrations with its checksum; a file that changed after it was "
           "applied is refused, naming it. With CERTCTL_CONFIG_ENCRYPTION_KEY "
           "configured, the "
           "first run records the key's key-check value (an HMAC of a random salt, never "
           "the key), which `db restore-check` later opens to tell whether the key at "
           "hand is the database's.\n\nBoth certctld and certctl-admin refuse to "
           "work with a database that is behind; this is the command they point to.",
       .examples = {{"certctl-admin db migrate --dry-run",
                     "show which migrations would run"},
                    {"certctl-admin db migrate", "apply them"}},
       .json_data =
           {{"from_version", "the schema version before"},
            {"to_version", "the schema version after"},
            {"applied",
             "[{version, name, checksum}] applied (in a dry run: would be applied)"}},
       .findings =
           "an applied migration file was changed since (error Corruption, naming "
           "it); nothing was applied",
       .mutating = true,
       .locked = false});
  migrate->callback([&app, &migrate_flags] {
    app.SetAction("db.migrate", [&app, &migrate_flags] {
      auto env = app.Open(/*allow_outdated_schema=*/true);
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context(&migrate_flags);
      ops::OpReport report;
      auto result = ops::MigrateDatabase(ctx, report);
      app.Finish(report, result, RenderMigrate);
    });
  });

  auto* status =
      db->add_subcommand("status", "Show the schema version and pending migrations");
  app.Document(
      status, {.description = "Reads schema_migrations and compares it with the "
                              "migrations compiled into this binary. Exits 1 when "
                              "migrations are pending or an applied file was changed.",
               .examples = {{"certctl-admin db status", "is the schema current?"},
                            {"certctl-admin db status -o json", "the same, for scripts"}},
               .json_data = {{"current_version", "the database's schema version"},
                             {"latest_version", "the newest migration in this binary"},
                             {"applied", "[{version, name, checksum, applied_at}]"},
                             {"pending", "[{version, name, checksum}] not applied yet"}},
               .findings = "migrations are pending (schema.behind) or an applied file "
                           "changed (schema.mismatch)"});
  status->callback([&app] {
    app.SetAction("db.status", [&app] {
      auto env = app.Open(/*allow_outdated_schema=*/true);
      if (!env.ok()) return app.Fail(env.status());
      auto ctx = (*env)->Context();
      ops::OpReport report;
      auto result = ops::DescribeSchema(ctx, report);
      app.Finish(report, result, RenderStatus);
    });
  });

  RegisterDbRestoreCheck(app, db);
  RegisterDbPostRestore(app, db);
}

}  // namespace certctl::admin
