// Test seams of OcspService, kept off its public header: only tests include
// this (core/src is on the include path of the test binaries, never on that of
// certctld or certctl-admin).
#pragma once

#include <functional>
#include <string>

#include "certctl/ops/ocsp_ops.h"

namespace certctl::ops {

class OcspServiceTestPeer {
 public:
  using WriteBackHook =
      std::function<void(const std::string& issuer, const std::string& serial)>;
  // `hook` runs on a live signing after the answer is signed and before it is
  // written back to ocsp_response_cache (issuer, canonical serial). Set it
  // before the service is shared between threads.
  static void SetBeforeWriteBackHook(OcspService& service, WriteBackHook hook);
};

}  // namespace certctl::ops
