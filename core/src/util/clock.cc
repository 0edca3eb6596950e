#include "certctl/util/clock.h"

namespace certctl {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

bool PastHalfLife(TimePoint this_update, TimePoint next_update, TimePoint now) {
  return now >= this_update + (next_update - this_update) / 2;
}

}  // namespace certctl
