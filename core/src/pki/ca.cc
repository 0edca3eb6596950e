#include "certctl/pki/ca.h"

#include <openssl/err.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/serial.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

namespace certctl {

Status ValidateCa(X509* cert, EVP_PKEY* key, TimePoint now) {
  if (!cert) return Status::FailedPrecondition("no CA certificate");
  std::string who = "CA certificate \"" + SubjectOf(cert) + "\"";
  uint32_t flags = X509_get_extension_flags(cert);
  if (flags & EXFLAG_INVALID) {
    return Status::FailedPrecondition(who + " has invalid extensions");
  }
  if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) {
    return Status::FailedPrecondition(
        who + " is not a CA: basicConstraints CA:TRUE is missing");
  }
  if (!(flags & EXFLAG_KUSAGE)) {
    return Status::FailedPrecondition(who +
                                      " has no keyUsage extension; it needs keyCertSign "
                                      "and cRLSign");
  }
  uint32_t ku = X509_get_key_usage(cert);
  if (!(ku & KU_KEY_CERT_SIGN)) {
    return Status::FailedPrecondition(who + " keyUsage lacks keyCertSign");
  }
  if (!(ku & KU_CRL_SIGN)) {
    return Status::FailedPrecondition(who + " keyUsage lacks cRLSign");
  }
  if (!key || X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return Status::FailedPrecondition("the CA private key does not match " + who);
  }
  TimePoint not_before = NotBefore(cert), not_after = NotAfter(cert);
  if (now < not_before) {
    return Status::FailedPrecondition(who + " is not yet valid (notBefore " +
                                      FormatRfc3339(not_before) + ")");
  }
  if (now > not_after) {
    return Status::FailedPrecondition(who + " has expired (notAfter " +
                                      FormatRfc3339(not_after) + ")");
  }
  return Status::Ok();
}

Result<CaMaterial> LoadCa(const std::filesystem::path& cert_path,
                          const std::filesystem::path& key_path, TimePoint now) {
  CaMaterial ca;
  ASSIGN_OR_RETURN(ca.cert, LoadCertificateFile(cert_path));
  ASSIGN_OR_RETURN(ca.key, LoadPrivateKeyFile(key_path));
  Status valid = ValidateCa(ca.cert.get(), ca.key.get(), now);
  if (!valid.ok()) {
    return valid.WithContext("refusing CA " + cert_path.string() + " / " +
                             key_path.string());
  }
  return ca;
}

Result<CaMaterial> CreateSelfSignedCa(const NewCaOptions& options, TimePoint now) {
  CaMaterial ca;
  ASSIGN_OR_RETURN(ca.key, GenerateKey(options.algorithm));
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  IssueRequest r;
  r.common_name = options.common_name;
  r.organization = options.organization;
  r.public_key = ca.key.get();
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = now + options.validity;
  r.is_ca = true;
  r.key_usage = "keyCertSign,cRLSign,digitalSignature";
  ASSIGN_OR_RETURN(ca.cert, IssueCertificate(r, serial, nullptr, ca.key.get()));
  return ca;
}

Status WriteCaFiles(const CaMaterial& ca, const std::filesystem::path& cert_path,
                    const std::filesystem::path& key_path, bool allow_overwrite) {
  WriteOptions key_options;
  key_options.allow_overwrite = allow_overwrite;
  RETURN_IF_ERROR(WritePrivateKeyFile(key_path, ca.key.get(), key_options));
  WriteOptions cert_options;
  cert_options.mode = 0644;
  cert_options.allow_overwrite = allow_overwrite;
  return WriteFileAtomic(cert_path, CertificateToPem(ca.cert.get()), cert_options);
}

}  // namespace certctl
