// The delegated OCSP responder certificate (RFC 6960 §4.2.2.2): its profile,
// issuance by a CA generation, and the checks `ocsp status` reports.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

struct ResponderCertificateRequest {
  std::string common_name;            // e.g. "iss-local OCSP Responder g1"
  EVP_PKEY* responder_key = nullptr;  // the responder's key (borrowed)
  X509* ca_cert = nullptr;            // the CA generation's certificate (borrowed)
  EVP_PKEY* ca_key = nullptr;         // and its key (borrowed)
  TimePoint now;
  std::chrono::seconds validity{};  // clamped to the CA certificate's notAfter
};

// Issues a responder certificate: random serial, subject CN=<common_name>
// with the CA's organization, keyUsage digitalSignature (critical),
// extendedKeyUsage OCSPSigning, id-pkix-ocsp-nocheck, CA:FALSE, SKI/AKI,
// notBefore one minute in the past for clock skew. Refuses a CA that expires
// before the certificate would start (FailedPrecondition).
Result<UniquePtr<X509>> IssueResponderCertificate(
    const ResponderCertificateRequest& request);

// Which parts of the responder profile `cert` has.
struct ResponderProfile {
  bool ocsp_signing = false;       // extendedKeyUsage OCSPSigning
  bool ocsp_nocheck = false;       // id-pkix-ocsp-nocheck
  bool digital_signature = false;  // keyUsage digitalSignature
  bool complete() const { return ocsp_signing && ocsp_nocheck && digital_signature; }
};
ResponderProfile InspectResponderProfile(X509* cert);

}  // namespace certctl
