#include "certctl/pki/ocsp_responder.h"

#include <openssl/err.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/serial.h"

namespace certctl {
namespace {

std::string OrganizationOf(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int loc = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
  if (loc < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, loc));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

Result<UniquePtr<X509>> IssueResponderCertificate(const ResponderCertificateRequest& r) {
  if (!r.responder_key || !r.ca_cert || !r.ca_key) {
    return Status::InvalidArgument(
        "responder certificate needs the responder key and the CA");
  }
  if (r.validity <= std::chrono::seconds(0)) {
    return Status::InvalidArgument("responder certificate validity must be positive");
  }
  IssueRequest req;
  req.common_name = r.common_name;
  req.organization = OrganizationOf(r.ca_cert);
  req.public_key = r.responder_key;
  req.not_before = r.now - std::chrono::minutes(1);
  // A responder may not outlive the CA that vouches for it.
  req.not_after = std::min(r.now + r.validity, NotAfter(r.ca_cert));
  if (req.not_after <= r.now) {
    return Status::FailedPrecondition(
        "CA \"" + SubjectOf(r.ca_cert) +
        "\" has expired; it cannot vouch for a new OCSP responder");
  }
  req.key_usage = "digitalSignature";
  req.extended_key_usage = "OCSPSigning";
  req.ocsp_nocheck = true;
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  return IssueCertificate(req, serial, r.ca_cert, r.ca_key);
}

ResponderProfile InspectResponderProfile(X509* cert) {
  ResponderProfile p;
  uint32_t flags = X509_get_extension_flags(cert);
  p.ocsp_signing =
      (flags & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(cert) & XKU_OCSP_SIGN);
  p.digital_signature =
      (flags & EXFLAG_KUSAGE) && (X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE);
  p.ocsp_nocheck = X509_get_ext_by_NID(cert, NID_id_pkix_OCSP_noCheck, -1) >= 0;
  ERR_clear_error();
  return p;
}

}  // namespace certctl
