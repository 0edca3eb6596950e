// Ownership of files certctl creates while running as root.
#pragma once

#include <filesystem>

#include "certctl/util/status.h"

namespace certctl {

// Root only (a no-op for anyone else): gives the open file `fd` the owner and
// group of `dir`, the directory it is in, unless that is root. Run with sudo,
// certctl-admin would otherwise leave root-owned files (a rotated CA key, the
// audit anchor's lock) that certctld, running as its own user
// (certctld.service: User=certctl), cannot open. WriteFileAtomic and the
// audit anchor's lock file go through this.
Status AdoptDirectoryOwner(int fd, const std::filesystem::path& dir);

}  // namespace certctl
