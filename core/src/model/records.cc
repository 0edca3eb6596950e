#include "certctl/model/records.h"

namespace certctl {
namespace {

// RFC 5280 §5.3.1 CRLReason codes; 7 is unused.
constexpr const char* kReasonNames[] = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", nullptr,
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};

}  // namespace

Result<CertificateStatusFilter> ParseCertificateStatusFilter(std::string_view text) {
  if (text.empty() || text == "any") return CertificateStatusFilter::kAny;
  if (text == "active") return CertificateStatusFilter::kActive;
  if (text == "revoked") return CertificateStatusFilter::kRevoked;
  if (text == "expired") return CertificateStatusFilter::kExpired;
  return Status::InvalidArgument(
      "status must be active, revoked, expired or any, not \"" + std::string(text) +
      "\"");
}

Result<int> ParseRevocationReason(std::string_view name) {
  for (int i = 0; i <= 10; ++i) {
    if (kReasonNames[i] && name == kReasonNames[i]) return i;
  }
  return Status::InvalidArgument(
      "unknown revocation reason \"" + std::string(name) +
      "\": use an RFC 5280 name: unspecified, keyCompromise, cACompromise, "
      "affiliationChanged, superseded, cessationOfOperation or privilegeWithdrawn");
}

std::string_view RevocationReasonName(int code) {
  if (code >= 0 && code <= 10 && kReasonNames[code]) return kReasonNames[code];
  return "unknown";
}

}  // namespace certctl
