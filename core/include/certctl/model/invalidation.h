// What a cache invalidation says: every revocation, cache truncation, CRL
// regeneration and responder reset, by any certctld replica or
// certctl-admin, is announced on kInvalidationChannel with PostgreSQL NOTIFY
// when its transaction commits (the store sends it; ops::InvalidationFeed,
// certctl/ops/invalidation.h, hears it). Data only.
#pragma once

#include <string>
#include <string_view>

#include "certctl/util/status.h"

namespace certctl {

inline constexpr char kInvalidationChannel[] = "certctl_invalidate";

// What to drop: one notification's payload.
struct Invalidation {
  std::string scope;   // "ocsp", "crl" or "all"
  std::string issuer;  // empty: every issuer
  std::string serial;  // ocsp only; empty: every serial of the issuer

  // JSON payload, e.g. {"scope":"ocsp","issuer":"iss-local","serial":"ab12"}.
  std::string ToPayload() const;
  // InvalidArgument for anything that is not such a payload.
  static Result<Invalidation> FromPayload(std::string_view payload);
};

}  // namespace certctl
