// Fuzz target: CSR parsing (ParseCsrPem) and issuance from what it accepts.
// Each input is tried three ways:
//  1. as the PEM text a client sends;
//  2. as DER inside a PEM armour, so that mutations reach the ASN.1, the key
//     checks and the signature check rather than the base64;
//  3. as DER re-keyed and re-signed with the fuzz key, so that the subject
//     and subjectAltName parsing behind the signature check is reached too
//     (a mutated CSR almost never keeps a valid self-signature).
// What parses must hold what ParseCsrPem promises (csr.h): the subject as
// issued passes CheckSubject again unchanged, the CN is within RFC 5280's
// bound, every SAN passes its check and there are at most CsrLimits::max_sans.
// It is then issued by the test CA as ops::IssueCertificate does (the checked
// subject, the SANs, CDP and AIA) and the certificate is read back: it
// verifies, and its subjectAltName is critical exactly when the subject is
// empty (RFC 5280 §4.2.1.6).
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <optional>

#include "certctl/pki/certificate.h"
#include "certctl/pki/csr.h"
#include "certctl/pki/name_checks.h"
#include "certctl/util/encoding.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace certctl;
using fuzz::Expect;

std::string PemArmour(std::string_view der) {
  std::string b64 = Base64Encode(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

// The DER with the fuzz key as its public key, signed with it; "" when the
// input is not a CertificationRequest.
std::string Resigned(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePtr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  EVP_PKEY* key = fuzz::Pki().csr_key.get();
  if (!req || X509_REQ_set_pubkey(req.get(), key) != 1 ||
      X509_REQ_sign(req.get(), key, nullptr) <= 0) {
    ERR_clear_error();
    return {};
  }
  unsigned char* out = nullptr;
  int len = i2d_X509_REQ(req.get(), &out);
  if (len <= 0) return {};
  std::string result(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  return result;
}

void CheckParsed(const Csr& csr) {
  Expect(csr.request && csr.public_key(), "a parsed CSR has a public key");
  Expect(!csr.key_description.empty(), "a parsed CSR's key is described");
  Expect(csr.subject_name != nullptr, "a parsed CSR has the subject to issue");
  Expect(X509_NAME_entry_count(csr.subject_name.get()) <= kMaxSubjectAttributes,
         "at most kMaxSubjectAttributes subject attributes");
  auto again = CheckSubject(csr.subject_name.get());
  Expect(again.ok() && again->common_name == csr.common_name &&
             X509_NAME_cmp(again->name.get(), csr.subject_name.get()) == 0,
         "the subject as issued passes CheckSubject unchanged");
  Expect(
      csr.common_name.empty() || CheckSubjectValue(NID_commonName, csr.common_name).ok(),
      "the CN is clean text within RFC 5280's 64 characters");
  size_t sans =
      csr.dns_names.size() + csr.ip_addresses.size() + csr.email_addresses.size();
  Expect(sans <= static_cast<size_t>(CsrLimits{}.max_sans), "at most max_sans SANs");
  for (const auto& name : csr.dns_names) {
    Expect(CheckDnsName(name).ok(), "DNS name SANs pass CheckDnsName");
  }
  for (const auto& address : csr.email_addresses) {
    Expect(CheckEmailAddress(address).ok(), "e-mail SANs pass CheckEmailAddress");
  }
  for (const auto& ip : csr.ip_addresses) {
    unsigned char buf[16];
    Expect(inet_pton(AF_INET, ip.c_str(), buf) == 1 ||
               inet_pton(AF_INET6, ip.c_str(), buf) == 1,
           "IP address SANs are read as addresses");
  }
}

// Whether `cert`'s subjectAltName is marked critical; nullopt without one.
std::optional<bool> SanCritical(X509* cert) {
  int idx = X509_get_ext_by_NID(cert, NID_subject_alt_name, -1);
  if (idx < 0) return std::nullopt;
  return X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 1;
}

void Issue(const Csr& csr) {
  const fuzz::FuzzPki& pki = fuzz::Pki();
  IssueRequest r;
  r.subject = csr.subject_name.get();
  r.public_key = csr.public_key();
  r.not_before = pki.now;
  r.not_after = pki.now + std::chrono::hours(24);
  r.key_usage = "digitalSignature";
  r.extended_key_usage = "serverAuth,clientAuth";
  r.dns_names = csr.dns_names;
  r.ip_addresses = csr.ip_addresses;
  r.email_addresses = csr.email_addresses;
  r.crl_distribution_url = "http://127.0.0.1:8080/.well-known/pki/crl/iss-local/1";
  r.ocsp_url = "http://127.0.0.1:8080/.well-known/pki/ocsp/iss-local";
  r.ca_issuers_url = "http://127.0.0.1:8080/.well-known/pki/ca/iss-local/1";
  auto serial = Serial::Random();
  Expect(serial.ok(), "a random serial");
  auto cert = IssueCertificate(r, *serial, pki.ca_cert.get(), pki.ca_key.get());
  if (!cert.ok()) return;  // refused with a reason: not a crash
  auto back = ParseCertificateDer(CertificateToDer(cert->get()));
  Expect(back.ok(), "an issued certificate parses back");
  Expect(SignedBy(back->get(), pki.ca_cert.get()), "an issued certificate verifies");
  bool has_sans =
      !csr.dns_names.empty() || !csr.ip_addresses.empty() || !csr.email_addresses.empty();
  bool empty_subject = X509_NAME_entry_count(csr.subject_name.get()) == 0;
  Expect(SanCritical(back->get()) ==
             (has_sans ? std::optional<bool>(empty_subject) : std::nullopt),
         "the subjectAltName is critical exactly when the subject is empty");
}

void Try(std::string_view pem) {
  auto csr = ParseCsrPem(pem);
  if (!csr.ok()) return;
  CheckParsed(*csr);
  Issue(*csr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = fuzz::Input(data, size);
  Try(input);
  Try(PemArmour(input));
  if (std::string resigned = Resigned(input); !resigned.empty()) Try(PemArmour(resigned));
  fuzz::ExpectNoOpenSslErrorLeft();
  return 0;
}
