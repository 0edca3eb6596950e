// Small PKI helpers for tests.
#pragma once

#include <string>

#include "certctl/util/clock.h"

namespace certctl::testing {

// A self-signed ECDSA P-256 CA certificate (keyCertSign, cRLSign) as PEM,
// valid from `not_before` to `not_after`; its key is thrown away (trust
// bundle tests only need certificates).
std::string SelfSignedCaPem(const std::string& cn, TimePoint not_before,
                            TimePoint not_after);

}  // namespace certctl::testing
