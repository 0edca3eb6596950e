// certctl-admin: every procedure of the disaster-recovery runbook as one
// safe, audited command. The single table of command groups is below.
#include "app.h"
#include "commands.h"

namespace {

using Register = void (*)(certctl::admin::AdminApp&);

constexpr Register kCommandGroups[] = {
    certctl::admin::RegisterDbCommands,
};

}  // namespace

int main(int argc, char** argv) {
  certctl::admin::AdminApp app(argc, argv);
  for (Register group : kCommandGroups) group(app);
  return app.Run();
}
