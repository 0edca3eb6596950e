#include "certctl/util/clock.h"

namespace certctl {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace certctl
