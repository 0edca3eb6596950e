// The sub-commands of `certctl-admin ca`, one registration function each;
// RegisterCaCommands (ca.cc) creates the group and calls them in order.
#pragma once

#include "app.h"

namespace certctl::admin {

void RegisterCaStatus(AdminApp& app, CLI::App* ca);  // ca.cc
void RegisterCaBackup(AdminApp& app, CLI::App* ca);  // ca_backup.cc
void RegisterCaRotate(AdminApp& app, CLI::App* ca);  // ca_rotate.cc

}  // namespace certctl::admin
