// Readiness for systemd (Type=notify): certctld says READY=1 once it serves
// and STOPPING=1 when it begins to drain, through the NOTIFY_SOCKET protocol
// of sd_notify(3).
//
// Written by hand rather than with libsystemd's sd_notify(): the protocol is
// one datagram on a Unix socket, documented as a stable interface
// (systemd.io/PORTABILITY_AND_STABILITY), and Debian 12's libsystemd-dev is
// version-locked to libsystemd0, so installing it on a build host upgrades
// systemd itself; certctld would also depend on libsystemd0 for these few
// lines.
#pragma once

#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl::daemon {

// $NOTIFY_SOCKET, read once at start-up (main thread); empty when certctld
// does not run under systemd's Type=notify.
std::string SystemdNotifySocket();

// Sends `state` ("READY=1\nSTATUS=...") to `socket`: a path, or an abstract
// socket written "@name". OK and nothing sent when `socket` is empty.
Status NotifySystemd(const std::string& socket, std::string_view state);

}  // namespace certctl::daemon
