// Issuers at start-up: bringing the configured CA and the database together.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "certctl/model/records.h"
#include "certctl/ops/op.h"

namespace certctl::ops {

struct CaRegistered {
  std::string issuer;
  int generation = 0;       // the active generation
  bool registered = false;  // registered now (a new issuer)
  std::string fingerprint;  // SHA-256 of the configured CA certificate, lowercase hex
  std::string subject;      // of the configured CA certificate
  TimePoint not_after;      // of the configured CA certificate
  int configured_generation = 0;  // the generation the configured files are
  std::string active_key_path;    // the key file of the active generation
  std::string active_subject;     // the active generation's CA subject
};

// Brings the CA files configured for `issuer` (CERTCTL_CA_CERT_PATH and
// CERTCTL_CA_KEY_PATH) and the database together, under the issuer's CA lock
// (so replicas starting together on a fresh database do not race).
//
// The database is the source of truth once the issuer exists: every
// ca_generations row names its key file (key_path) and holds its
// certificate, and `certctl-admin ca rotate` adds generations. The
// configured pair only registers generation 1 of a new issuer; afterwards it
// must be the certificate and key of SOME generation of the issuer, active
// or retired, so that an unchanged configuration keeps working after a
// rotation:
//  - new issuer: the files must be a valid CA now (ValidateCa); the issuer is
//    created and the CA registered as generation 1 (audited);
//  - the active generation's files: validated as for a new issuer;
//  - a retired generation's files: the key must match the certificate (a
//    retired CA may have expired; it only signs CRLs and OCSP answers for
//    what it issued);
//  - a generation still being rotated in ("pending"), or a certificate that
//    is no generation of the issuer (files replaced by hand): FailedPrecondition,
//    the message naming `certctl-admin ca rotate`.
// Then the active generation's key is loaded from the key_path its row
// names (FailedPrecondition or NotFound naming the file when it is missing or
// does not match), so a process that starts can sign, and the directory of
// that key must be writable by this process (Configuration naming it and the
// user otherwise: each published CRL is recorded there). On success the
// configured CA and the active one are in ctx.keyring.
Result<CaRegistered> RegisterConfiguredCa(OpContext& ctx, const std::string& issuer,
                                          const std::string& cert_path,
                                          const std::string& key_path, OpReport& report);

// What certctld's start-up would conclude about the configured CA, without
// registering anything: the checks of RegisterConfiguredCa (the same code),
// read-only and without its lock. A new issuer's files are validated as
// registration would (ValidateCa) and `registered` tells that start-up would
// register them. Errors as RegisterConfiguredCa's; nothing is written and no
// audit event. On success the active generation's key is in ctx.keyring.
Result<CaRegistered> CheckConfiguredCa(OpContext& ctx, const std::string& issuer,
                                       const std::string& cert_path,
                                       const std::string& key_path, OpReport& report);

// certctld refuses to start without a configured CA for iss-local:
// Configuration naming CERTCTL_CA_CERT_PATH and CERTCTL_CA_KEY_PATH when
// either is empty.
Status RequireConfiguredCaFiles(const Config& config);

// The ids of every issuer, sorted (for `--all` in certctl-admin).
Result<std::vector<std::string>> ListIssuerIds(OpContext& ctx);

// GET /api/v1/issuers: every issuer with its CA generations, read in one
// transaction.
struct IssuerWithGenerations {
  IssuerRecord issuer;
  std::vector<CaGenerationRecord> generations;
};
Result<std::vector<IssuerWithGenerations>> ListIssuers(OpContext& ctx);

// The CA certificate of `issuer`'s generation `generation`, or of its active
// generation when none is given, as DER (what caIssuers URLs serve). NotFound
// for an unknown issuer or generation; Unavailable when the database is.
struct CaCertificate {
  int generation = 0;
  std::string der;
  std::string sha256;  // lowercase hex of the DER
};
Result<CaCertificate> FindCaCertificate(Database& db, const std::string& issuer,
                                        std::optional<int> generation);

}  // namespace certctl::ops
