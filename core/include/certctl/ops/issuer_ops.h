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
  std::string fingerprint;  // SHA-256 of the CA certificate, lowercase hex
  std::string subject;
  TimePoint not_after;
};

// Loads and validates the CA files configured for `issuer` and matches them
// against the issuer's active generation, under the issuer's CA lock (so
// replicas starting together on a fresh database do not race):
//  - new issuer: creates it and registers the CA as generation 1 (audited);
//  - same certificate as the active generation: nothing to do;
//  - different certificate: FailedPrecondition. Files replaced by hand are
//    refused; the message says to put the original files back and names
//    `certctl-admin ca rotate` (not implemented yet) as the way to register
//    a new CA, saying that this version lacks it.
// On success the CA is installed in ctx.keyring.
Result<CaRegistered> RegisterConfiguredCa(OpContext& ctx, const std::string& issuer,
                                          const std::string& cert_path,
                                          const std::string& key_path, OpReport& report);

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
