// certctl-admin: every procedure of the disaster-recovery runbook as one
// safe, audited command. The single table of command groups is below; the
// order is the order of --help, the man pages and the completions.
#include "app.h"
#include "commands.h"
#include "docs.h"

namespace {

using Register = void (*)(certctl::admin::AdminApp&);

constexpr Register kCommandGroups[] = {
    certctl::admin::RegisterCrlCommands,     certctl::admin::RegisterOcspCommands,
    certctl::admin::RegisterCacheCommands,   certctl::admin::RegisterCaCommands,
    certctl::admin::RegisterTrustCommands,   certctl::admin::RegisterAuditCommands,
    certctl::admin::RegisterDbCommands,      certctl::admin::RegisterLockCommands,
    certctl::admin::RegisterConfigCommands,  certctl::admin::RegisterDrCommands,
    certctl::admin::RegisterHelpCommand,
    certctl::admin::RegisterDocsCommand,      // hidden
    certctl::admin::RegisterCompleteCommand,  // hidden
};

}  // namespace

int main(int argc, char** argv) {
  certctl::admin::AdminApp app(argc, argv);
  for (Register group : kCommandGroups) group(app);
  return app.Run();
}
