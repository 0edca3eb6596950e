// The command groups of certctl-admin. Each registers its sub-commands on the
// root app; main.cc holds the single table of them.
#pragma once

#include "app.h"

namespace certctl::admin {

void RegisterDbCommands(AdminApp& app);

}  // namespace certctl::admin
