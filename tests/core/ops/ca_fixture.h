// Shared by the CA procedure tests (`ca status`, `ca backup`): OpsTest
// (iss-local generation 1 on a fresh database) plus helpers to make CAs,
// add a generation the way a rotation leaves it, and run the procedures.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "certctl/ops/ca_backup.h"
#include "certctl/ops/ca_json.h"
#include "certctl/ops/ca_status.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/issuer_ops.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/ops/op_json.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/files.h"
#include "store/issuer_repo.h"
#include "support/ops_fixture.h"

namespace certctl::testing {

using std::chrono::hours;

// A CA's files.
struct CaFiles {
  std::string cert_path;
  std::string key_path;
  std::string cert_pem;
};

class CaOpsTest : public OpsTest {
 protected:
  // A new self-signed CA valid for `validity`, written to <name>.crt/.key.
  CaFiles NewCa(const std::string& name, std::chrono::seconds validity,
                const std::string& cn = "certctl test CA") {
    auto ca = CreateSelfSignedCa({.common_name = cn, .validity = validity},
                                 std::chrono::system_clock::now());
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    if (!ca.ok()) return {};
    CaFiles f{*dir_ / (name + ".crt"), *dir_ / (name + ".key"),
              CertificateToPem(ca->cert.get())};
    EXPECT_TRUE(WriteCaFiles(*ca, f.cert_path, f.key_path).ok());
    return f;
  }

  // Registers `issuer` with a new CA valid for `validity`.
  void RegisterIssuer(const std::string& issuer, std::chrono::seconds validity) {
    CaFiles f = NewCa(issuer, validity);
    auto ctx = Context();
    ops::OpReport report;
    auto r = ops::RegisterConfiguredCa(ctx, issuer, f.cert_path, f.key_path, report);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Adds generation 2 of iss-local, active, and retires generation 1: what a
  // rotation leaves in the database. Returns its files.
  CaFiles AddGeneration(std::chrono::seconds validity = hours(24 * 3650)) {
    CaFiles f = NewCa("ca-g2", validity, "certctl test CA g2");
    auto cert = ParseCertificatePem(f.cert_pem);
    EXPECT_TRUE(cert.ok());
    if (!cert.ok()) return f;
    CaGenerationRecord g;
    g.issuer_id = kLocalIssuerId;
    g.generation = 2;
    g.state = GenerationState::kActive;
    g.cert_pem = f.cert_pem;
    g.cert_sha256 = FingerprintSha256(cert->get());
    g.key_path = f.key_path;
    g.subject = SubjectOf(cert->get());
    g.not_before = NotBefore(cert->get());
    g.not_after = NotAfter(cert->get());
    Status s = db().Run([&](Transaction& tx) -> Status {
      RETURN_IF_ERROR(IssuerRepo::RetireGeneration(tx, kLocalIssuerId, 1));
      return IssuerRepo::InsertGeneration(tx, g);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return f;
  }

  // A CRL and a responder for generation `generation`, as certctld's
  // schedulers make them (not audited).
  void Serve(int generation = 1) {
    auto ctx = Context();
    ops::OpReport crl, responder;
    auto regenerated =
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, crl);
    ASSERT_TRUE(regenerated.ok()) << regenerated.status().ToString();
    auto ensured = ops::EnsureOcspResponder(ctx, kLocalIssuerId, generation, responder);
    ASSERT_TRUE(ensured.ok()) << ensured.status().ToString();
  }

  OpRun<ops::CaStatus> Describe(const std::string& issuer = kLocalIssuerId,
                                ops::CaExpiryThresholds t = {}) {
    auto ctx = Context();
    OpRun<ops::CaStatus> run;
    run.result = ops::DescribeCa(ctx, issuer, t, run);
    return run;
  }

  OpRun<ops::CaBackupWritten> Backup(const std::string& dir, bool dry_run = false) {
    auto ctx = Context(dry_run);
    OpRun<ops::CaBackupWritten> run;
    run.result = ops::BackupCa(ctx, kLocalIssuerId, dir, run);
    return run;
  }

  OpRun<ops::CaBackupVerified> Verify(const std::string& dir) {
    auto ctx = Context();
    OpRun<ops::CaBackupVerified> run;
    run.result = ops::VerifyCaBackup(ctx, dir, run);
    return run;
  }

  template <typename T>
  static std::string Dump(const OpRun<T>& run) {
    return ops::ReportJson(run, run.result).dump(2);
  }

  // The finding codes of `report` in order.
  static std::vector<std::string> Codes(const ops::OpReport& report) {
    std::vector<std::string> out;
    for (const auto& f : report.findings) out.push_back(f.code);
    return out;
  }
  static bool Has(const ops::OpReport& report, const std::string& code,
                  const std::string& severity = "error") {
    return std::any_of(
        report.findings.begin(), report.findings.end(),
        [&](const auto& f) { return f.code == code && f.severity == severity; });
  }
};

}  // namespace certctl::testing
