// certctld after start-up: builds the application state, binds the
// listeners, starts the schedulers and the NOTIFY
// watcher, serves until SIGTERM/SIGINT, then drains and stops everything in
// a bounded time.
#pragma once

#include "certctl/util/status.h"
#include "daemon/startup.h"

namespace certctl::daemon {

// Returns when the daemon has stopped; a non-OK status is why it could not
// start (bad TLS files, an address in use).
Status Serve(Runtime& runtime);

}  // namespace certctl::daemon
