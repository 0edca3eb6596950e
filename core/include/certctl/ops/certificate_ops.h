// Issuing and revoking certificates (the API's procedures).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/op.h"
#include "certctl/pki/keys.h"
#include "certctl/util/secret.h"

namespace certctl::ops {

struct IssueParams {
  std::string issuer = kLocalIssuerId;
  // A PEM CSR, or empty with `generate_key` set: the server makes the key and
  // the CSR (tests and demos only; the key is returned once and not stored).
  std::string csr_pem;
  std::optional<KeyAlgorithm> generate_key;
  std::string common_name;             // with generate_key
  std::vector<std::string> dns_names;  // with generate_key
  std::optional<int> validity_days;    // default config.certificate_default_validity_days
};

struct IssuedCertificate {
  std::string issuer;
  int generation = 0;
  std::string serial;  // canonical
  std::string certificate_pem;
  std::string chain_pem;  // the issuing CA certificate (and a sub-CA's issuers)
  TimePoint not_after;
  SecretString private_key_pem;  // only with generate_key
};

// Checks the request against the profile before anything else (and, with
// generate_key, before making a key): the CSR as ParseCsrPem checks it, with
// at most config.certificate_max_sans subjectAltName entries; common_name
// and dns_names as CheckSubjectValue and CheckDnsName check them; a CN or a
// SAN present; validity 1..max days. Signs with the issuer's active
// generation, with the subject as CheckSubject re-encoded it, adds the CRL
// distribution point, OCSP and caIssuers pointers under config.base_url, and
// records the certificate with an audit event in one transaction.
// InvalidArgument for a bad request, NotFound for an unknown issuer.
Result<IssuedCertificate> IssueCertificate(OpContext& ctx, const IssueParams& params);

struct RevokeParams {
  std::string issuer;  // empty: the issuer that issued `serial` (must be unique)
  std::string serial;  // any spelling Serial::Parse accepts
  std::string reason = "unspecified";  // RFC 5280 name
};

struct RevokeResult {
  RevocationRecord revocation;
  int64_t revocation_epoch = 0;
  int64_t ocsp_answers_dropped = 0;
};

// Records the revocation, bumps the issuer's revocation epoch, drops the
// cached OCSP answer and notifies every certctld, and writes the audit event,
// all in one transaction. NotFound for an unknown serial, AlreadyExists when
// already revoked, InvalidArgument for a bad serial or reason.
//
// Reasons: unspecified, keyCompromise, cACompromise, affiliationChanged,
// superseded, cessationOfOperation and privilegeWithdrawn. Refused, each with
// InvalidArgument saying why:
//  - removeFromCRL: RFC 5280 §5.3.1 allows it only in delta CRLs, where it
//    takes a held certificate off the list; in the complete CRLs certctl
//    publishes it would make relying parties accept a revoked certificate;
//  - aACompromise: for attribute certificates, which certctl does not issue;
//  - certificateHold: a hold is a revocation that may be undone, a window in
//    which the same certificate is first "revoked" and then "good" again,
//    which a revocation service must never say; certctl has no release, and
//    the CA/Browser Forum Baseline Requirements forbid holds for TLS.
Result<RevokeResult> RevokeCertificate(OpContext& ctx, const RevokeParams& params);

// GET /api/v1/certificates/{serial}[?issuer=]: the certificates with this
// serial (`serial` in any spelling Serial::Parse accepts), of `issuer` only
// when it is not empty; empty when there is none. InvalidArgument for a
// malformed serial or issuer id (checked before anything reaches the
// database); Unavailable when the database is.
Result<std::vector<CertificateStatusRecord>> FindCertificates(OpContext& ctx,
                                                              const std::string& serial,
                                                              const std::string& issuer);

// GET /api/v1/certificates: one page, oldest first; ctx.clock says what is
// expired. InvalidArgument for a malformed issuer id or a limit out of 1..1000.
Result<CertificatePage> ListCertificates(OpContext& ctx,
                                         const CertificateListFilter& filter);

// The URLs certctld serves for an issuer. Certificates carry the CRL URL of
// the generation that signed them, so they keep pointing at the right CRL
// after a CA rotation; the generation-less URL serves the active generation.
std::string CrlUrl(const Config& config, const std::string& issuer);
std::string CrlUrl(const Config& config, const std::string& issuer, int generation);
std::string OcspUrl(const Config& config, const std::string& issuer);
// Where certctld serves the CA certificate (DER) of a generation, or of the
// active one: the caIssuers URL of issued certificates.
std::string CaCertificateUrl(const Config& config, const std::string& issuer);
std::string CaCertificateUrl(const Config& config, const std::string& issuer,
                             int generation);

}  // namespace certctl::ops
