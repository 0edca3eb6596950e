#include "daemon/file_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace certctl::daemon {

FileLimit RaiseFileLimit() {
  FileLimit out;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return out;
  out.before = out.soft = limit.rlim_cur;
  out.hard = limit.rlim_max;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = raised.rlim_cur;
  }
  return out;
}

ConnectionLimits FitConnectionLimits(ConnectionLimits wanted, uint64_t soft_limit,
                                     int database_pool_size) {
  uint64_t kept =
      kDescriptorsKept + 2 * static_cast<uint64_t>(std::max(0, database_pool_size));
  uint64_t budget = std::max<uint64_t>(2, soft_limit > kept ? soft_limit - kept : 0);
  uint64_t total = wanted.api + wanted.pki;
  if (total <= budget) return wanted;
  ConnectionLimits fitted;
  fitted.api = std::max<size_t>(1, wanted.api * budget / total);
  fitted.pki = std::max<size_t>(1, budget - fitted.api);
  fitted.api_reserved = wanted.api_reserved * fitted.api / wanted.api;
  if (wanted.api_reserved > 0 && fitted.api > 1) {
    fitted.api_reserved = std::clamp<size_t>(fitted.api_reserved, 1, fitted.api - 1);
  } else {
    fitted.api_reserved = 0;
  }
  return fitted;
}

}  // namespace certctl::daemon
