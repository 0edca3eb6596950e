// The sub-commands of `certctl-admin db` that live in files of their own;
// RegisterDbCommands (db.cc) creates the group and calls them in order.
#pragma once

#include "app.h"

namespace certctl::admin {

void RegisterDbRestoreCheck(AdminApp& app, CLI::App* db);  // db_restore_check.cc
void RegisterDbPostRestore(AdminApp& app, CLI::App* db);   // db_post_restore.cc

}  // namespace certctl::admin
