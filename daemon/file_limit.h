// RLIMIT_NOFILE at start-up: the soft limit is raised to the hard one, and
// the connection caps are fitted under it, so that client connections can
// never take the descriptors the rest of certctld needs (the database pool,
// key and CRL files, the listeners) and accept() keeps working.
#pragma once

#include <cstdint>

#include "daemon/connections.h"

namespace certctl::daemon {

struct FileLimit {
  uint64_t before = 0;  // the soft limit found
  uint64_t soft = 0;    // the soft limit now
  uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit. Never fails: when the
// kernel refuses (a hard limit above fs.nr_open), the limit stays as it was.
FileLimit RaiseFileLimit();

// Descriptors kept for other things than client connections: this many,
// plus two per pooled database connection.
inline constexpr uint64_t kDescriptorsKept = 64;

// `wanted`, scaled down in proportion (the reserve with the API cap) when
// the two caps together exceed what `soft_limit` leaves for client
// connections; unchanged when they fit. Every cap stays at least 1, and the
// reserve below the API cap.
ConnectionLimits FitConnectionLimits(ConnectionLimits wanted, uint64_t soft_limit,
                                     int database_pool_size);

}  // namespace certctl::daemon
