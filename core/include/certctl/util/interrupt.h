// SIGINT and SIGTERM turned into a flag that long operations poll, so that
// they stop between steps and clean up what they made (a scratch database, a
// child process, a scratch directory) before the process ends.
//
// A front end that runs such an operation calls CatchInterrupts() first and,
// once the operation has returned (its cleanup done), ExitIfInterrupted(): the
// process then dies of the same signal, so a shell or an init system sees
// what happened (exit status 128+signal).
#pragma once

#include <string>

#include "certctl/util/status.h"

namespace certctl {

// Installs the handlers of SIGINT and SIGTERM (idempotent). Without it,
// Interrupted() is always false and the signals keep their default action.
void CatchInterrupts();

// Whether SIGINT or SIGTERM arrived since CatchInterrupts().
bool Interrupted();

// Unavailable "interrupted by SIGTERM while <what>" when Interrupted(), else OK.
Status CheckInterrupted(const std::string& what);

// When a signal arrived: restores its default action and raises it again (the
// process ends here). Otherwise returns.
void ExitIfInterrupted();

}  // namespace certctl
