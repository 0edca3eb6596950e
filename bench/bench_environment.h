// What the benchmarks share: a migrated database on the harness PostgreSQL
// with iss-local registered (generation 1), and bulk certificates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "certctl/config/config.h"
#include "certctl/ops/keyring.h"
#include "certctl/ops/op.h"
#include "certctl/pki/ca.h"
#include "support/pg_harness.h"

namespace certctl::bench {

struct BenchEnvironment {
  testing::TempDir dir;
  std::string url;
  std::unique_ptr<Database> db;
  Config config;  // ocsp_responder_key_dir inside `dir`
  ops::CaKeyring keyring;
  CaMaterial ca;
  std::string program;  // the actor's command line, e.g. "crl_bench"

  // A fresh migrated database with a new self-signed CA as iss-local.
  Status Prepare(const std::string& program_name);

  // `n` certificates of iss-local generation 1 with 40-digit serials like
  // Serial::Random's ('1' || 39 hex digits of md5(i) || md5(-i)), valid for
  // 90 days, inserted with one INSERT ... SELECT generate_series. Those for
  // which the SQL condition `revoked_where` holds (on column `serial`) are
  // revoked with reason `reason_sql` (an SQL expression, also on `serial`).
  // Then ANALYZE.
  void InsertCertificates(int64_t n, const std::string& revoked_where,
                          const std::string& reason_sql);

  ops::OpContext Context();
};

// A benchmark without its data measures nothing: aborts the run with the
// reason when set-up failed.
void AbortUnless(const Status& prepared);

}  // namespace certctl::bench
