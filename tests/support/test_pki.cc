#include "support/test_pki.h"

#include <cstdlib>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"

namespace certctl::testing {

std::string SelfSignedCaPem(const std::string& cn, TimePoint not_before,
                            TimePoint not_after) {
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  auto serial = Serial::Random();
  if (!key.ok() || !serial.ok()) std::abort();
  IssueRequest r;
  r.common_name = cn;
  r.public_key = key->get();
  r.not_before = not_before;
  r.not_after = not_after;
  r.is_ca = true;
  r.key_usage = "keyCertSign,cRLSign";
  auto cert = IssueCertificate(r, *serial, nullptr, key->get());
  if (!cert.ok()) std::abort();
  return CertificateToPem(cert->get());
}

}  // namespace certctl::testing
