// Shared by the CRL procedure tests: OpsTest (iss-local generation 1 on a
// fresh database) plus helpers to read, forge and check CRLs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "certctl/ops/crl_json.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/ops/op_json.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/crl_builder.h"
#include "certctl/pki/crl_reader.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/process.h"
#include "store/crl_repo.h"
#include "support/ops_fixture.h"

namespace certctl::testing {

class CrlOpsTest : public OpsTest {
 protected:
  OpRun<ops::CrlRegeneration> Regenerate(
      ops::CrlTrigger trigger = ops::CrlTrigger::kAdmin, bool dry_run = false) {
    auto ctx = Context(dry_run);
    OpRun<ops::CrlRegeneration> run;
    run.result = ops::RegenerateCrl(ctx, kLocalIssuerId, trigger, run);
    EXPECT_TRUE(run.result.ok()) << run.status().ToString();
    return run;
  }

  std::optional<CrlCacheRecord> CachedRow(int generation = 1) {
    auto row = db().Query<std::optional<CrlCacheRecord>>(
        [&](Transaction& tx) { return CrlRepo::Find(tx, kLocalIssuerId, generation); });
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? *row : std::nullopt;
  }

  std::string CachedDer(int generation = 1) {
    auto row = CachedRow(generation);
    return row ? row->crl_der : "";
  }

  // Overwrites the cached CRL's bytes behind certctl's back.
  void PutCachedDer(const std::string& der, int generation = 1) {
    Sql(url_, "UPDATE crl_cache SET crl_der = decode('" + HexEncode(der) +
                  "', 'hex') WHERE issuer_id = 'iss-local' AND generation = " +
                  std::to_string(generation));
  }

  // The local CA's files as loaded by an operator.
  CaMaterial LocalCa() {
    auto ca = LoadCa(ca_cert_path_, ca_key_path_, std::chrono::system_clock::now());
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    return ca.ok() ? std::move(ca).value() : CaMaterial{};
  }

  // A CRL built by hand: for forging corrupt cache rows and fetched CRLs.
  static std::string SignCrl(const CaMaterial& ca, int64_t number, TimePoint this_update,
                             TimePoint next_update,
                             const std::vector<std::string>& serials = {}) {
    auto b = CrlBuilder::Start(
        {ca.cert.get(), ca.key.get(), number, this_update, next_update});
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) return "";
    for (const auto& s : serials) EXPECT_TRUE((*b)->Add(s, this_update, 1).ok());
    auto der = (*b)->Finish();
    EXPECT_TRUE(der.ok());
    return der.ok() ? *der : "";
  }

  // A CA with the same name as the local one but another key.
  static CaMaterial Impostor() {
    auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
    EXPECT_TRUE(ca.ok());
    return std::move(ca).value();
  }

  // Whether the CRL is one a relying party would accept from iss-local now.
  void ExpectValidLocalCrl(const std::string& der) {
    auto view = CrlView::Parse(der);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    auto ca = LocalCa();
    EXPECT_TRUE(view->VerifySignature(ca.cert.get()).ok());
    ASSERT_TRUE(view->next_update().has_value());
    EXPECT_GT(*view->next_update(), std::chrono::system_clock::now());
  }

  ProcessResult Run(const std::vector<std::string>& argv) {
    auto r = RunProcess(argv);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ProcessResult{};
  }

  int64_t Events(const std::string& where = "true") {
    return std::stoll(
        Sql(url_, "SELECT count(*) FROM crl_generation_events WHERE " + where));
  }
};

}  // namespace certctl::testing
