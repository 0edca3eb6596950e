// certctl-admin __complete KIND (hidden): the names the shell completions
// offer at run time, one a line: issuer ids, trust bundle names, audit
// actions, held locks. Read-only, quick, and silent: when the configuration
// or the database is not at hand it prints nothing and exits 0, so that a
// completion never shows an error or hangs the shell for long.
#include <iostream>

#include "certctl/ops/audit_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/lock_ops.h"
#include "commands.h"

namespace certctl::admin {
namespace {

// libpq's shortest connect timeout; a socket that is not there fails at once.
constexpr std::chrono::seconds kConnectTimeout{2};

Result<std::vector<std::string>> FromDatabase(AdminApp& app, const std::string& kind) {
  ASSIGN_OR_RETURN(auto env, app.Open({.allow_outdated_schema = true,
                                       .connect_timeout = kConnectTimeout}));
  auto ctx = env->Context();
  if (kind == kIssuerNames) return ops::ListIssuerIds(ctx);
  if (kind == kAuditActionNames) return ops::ListAuditActions(ctx);
  ops::OpReport report;
  ASSIGN_OR_RETURN(auto locks, ops::ListOperationLocks(ctx, report));
  std::vector<std::string> names;
  for (const auto& l : locks.locks) names.push_back(l.name);
  return names;
}

Result<std::vector<std::string>> Names(AdminApp& app, const std::string& kind) {
  if (kind != kTrustBundleNames) return FromDatabase(app, kind);
  ASSIGN_OR_RETURN(Config config, app.LoadConfiguration());
  std::vector<std::string> names;
  for (const auto& t : config.trust_anchors) names.push_back(t.name);
  return names;
}

}  // namespace

void RegisterCompleteCommand(AdminApp& app) {
  auto& kind = app.Make<std::string>();
  auto* cmd = app.root().add_subcommand(
      "__complete", "List names for the shell completions (for the completion scripts)");
  cmd->group("");  // hidden: not in --help, the pages or the completions
  app.Choices(cmd->add_option("KIND", kind, "What to list")->required(),
              {kIssuerNames, kTrustBundleNames, kAuditActionNames, kLockNames});
  cmd->callback([&app, &kind] {
    app.SetAction("__complete", [&app, &kind] {
      auto names = Names(app, kind);
      if (!names.ok()) return;  // nothing to offer; never an error in a shell
      for (const auto& n : *names) std::cout << n << "\n";
    });
  });
}

}  // namespace certctl::admin
