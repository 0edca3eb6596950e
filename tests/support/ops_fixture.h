// Fixture for tests of core/ops procedures: a fresh migrated database, a
// local CA on disk registered as iss-local generation 1, a config pointing at
// it, and an OpContext ready to use.
#pragma once

#include <memory>
#include <string>

#include "certctl/config/config.h"
#include "certctl/ops/certificate_ops.h"
#include "certctl/ops/keyring.h"
#include "certctl/ops/op.h"
#include "certctl/pki/ca.h"
#include "support/pg_harness.h"

namespace certctl::testing {

// One run of an operation: its report, and its typed result or error.
template <typename T>
struct OpRun : ops::OpReport {
  Result<T> result = Status::Internal("not run");
  const T* operator->() const { return &result.value(); }
  const Status& status() const { return result.status(); }
};

// Keys of a JSON object, sorted, comma-separated ("a,b,c"); "" for anything
// but an object.
std::string Keys(const nlohmann::json& object);

class OpsTest : public DatabaseTest {
 protected:
  void SetUp() override;

  // A context acting as `actor` (dry run and lock wait as given).
  ops::OpContext Context(bool dry_run = false);

  // Issues a certificate for `cn` through ops::IssueCertificate (server-side key).
  ops::IssuedCertificate Issue(const std::string& cn = "leaf.example");
  // Revokes through ops::RevokeCertificate.
  ops::RevokeResult Revoke(const std::string& serial,
                           const std::string& reason = "keyCompromise");

  // A CA rotation made by hand, as the serving side sees one: a new
  // self-signed CA (`options`; by default the subject of generation 1, so
  // both generations share the issuer name hash) written to
  // <dir>/g<N>.crt and .key, registered as generation N and made active, the
  // active one retired, in one transaction. Nothing is notified.
  struct HandRotation {
    int generation = 0;
    std::string cert_path, key_path;
    CaMaterial ca;
  };
  HandRotation RotateByHand(const NewCaOptions& options = {});

  // Row count of a table (for "dry run changes nothing" checks).
  int64_t Count(const std::string& table);

  std::unique_ptr<TempDir> dir_;
  std::string ca_cert_path_, ca_key_path_;
  Config config_;
  std::unique_ptr<ops::CaKeyring> keyring_;
};

}  // namespace certctl::testing
