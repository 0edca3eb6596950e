// The command groups of certctl-admin. Each registers its sub-commands on the
// root app; main.cc holds the single table of them.
#pragma once

#include "app.h"
#include "render.h"

namespace certctl::admin {

void RegisterCrlCommands(AdminApp& app);
void RegisterOcspCommands(AdminApp& app);
void RegisterCacheCommands(AdminApp& app);
void RegisterCaCommands(AdminApp& app);
void RegisterTrustCommands(AdminApp& app);
void RegisterAuditCommands(AdminApp& app);
void RegisterDbCommands(AdminApp& app);
void RegisterLockCommands(AdminApp& app);
// `__complete KIND` (hidden): names for the shell completions.
void RegisterCompleteCommand(AdminApp& app);
// `help [COMMAND...]`: a command's --help.
void RegisterHelpCommand(AdminApp& app);
void RegisterConfigCommands(AdminApp& app);
void RegisterDrCommands(AdminApp& app);
// `dr drill` (dr_drill.cc), registered by RegisterDrCommands.
void RegisterDrDrill(AdminApp& app, CLI::App* group);

}  // namespace certctl::admin
