// Process exit codes, the same for certctl-admin and certctld (sysexits.h
// numbering where one exists). Documented in every man page.
#pragma once

#include "certctl/util/status.h"

namespace certctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings =
    1;                                // a check found a problem / the request was refused
inline constexpr int kExitUsage = 2;  // bad flags or arguments; nothing changed
// Health checks (`certctl-admin dr check`), as monitoring plugins count them:
inline constexpr int kExitCheckWarning = 3;   // a check warned (or could not tell)
inline constexpr int kExitCheckCritical = 4;  // a check is critical
inline constexpr int kExitUnavailable =
    69;  // database or daemon unreachable (EX_UNAVAILABLE)
inline constexpr int kExitInternal = 70;  // internal error (EX_SOFTWARE)
inline constexpr int kExitBusy =
    75;  // lock held by someone else; retry later (EX_TEMPFAIL)
inline constexpr int kExitConfig = 78;  // configuration error (EX_CONFIG)

// InvalidArgument, NotFound -> 2; Unavailable, DeadlineExceeded -> 69;
// Busy -> 75; Configuration, FailedPrecondition, PermissionDenied,
// Unauthenticated -> 78; AlreadyExists, Corruption -> 1; Internal -> 70.
int ExitCodeFor(const Status& status);

}  // namespace certctl
