#include "bench/bench_environment.h"

#include <cstdio>
#include <cstdlib>

#include "certctl/log/logging.h"
#include "certctl/ops/issuer_ops.h"

namespace certctl::bench {

Status BenchEnvironment::Prepare(const std::string& program_name) {
  program = program_name;
  auto& cluster = testing::TestCluster::Get();
  url = cluster.Url(cluster.CreateMigratedDatabase());
  ASSIGN_OR_RETURN(db, Database::Open({.url = url, .pool_size = 4}));
  config.ocsp_responder_key_dir = dir / "ocsp-keys";
  config.audit_key = SecretString(testing::kTestAuditKey);
  ASSIGN_OR_RETURN(ca, CreateSelfSignedCa({}, std::chrono::system_clock::now()));
  RETURN_IF_ERROR(WriteCaFiles(ca, dir / "ca.crt", dir / "ca.key"));
  ops::OpReport report;
  auto ctx = Context();
  return ops::RegisterConfiguredCa(ctx, kLocalIssuerId, dir / "ca.crt", dir / "ca.key",
                                   report)
      .status();
}

void BenchEnvironment::InsertCertificates(int64_t n, const std::string& revoked_where,
                                          const std::string& reason_sql) {
  testing::Sql(
      url,
      "WITH c AS (INSERT INTO certificates (issuer_id, serial, generation, subject, "
      "not_before, not_after, cert_der, issued_by) "
      "SELECT 'iss-local', '1' || substr(md5(i::text) || md5((-i)::text), 1, 39), 1, "
      "'CN=bench-' || i, now() - interval '1 day', now() + interval '90 days', "
      "'\\x00'::bytea, 'bench' FROM generate_series(1, " +
          std::to_string(n) +
          ") AS i RETURNING serial) "
          "INSERT INTO certificate_revocations (issuer_id, serial, generation, reason, "
          "revoked_at, revoked_by) SELECT 'iss-local', serial, 1, " +
          reason_sql + ", now(), 'bench' FROM c WHERE " + revoked_where);
  testing::Sql(url, "ANALYZE");
}

ops::OpContext BenchEnvironment::Context() {
  return ops::OpContext{
      *db,          config,  SystemClock::Instance(),
      NullLogger(), keyring, ops::Actor{"bench", "bench-host", program, ""}};
}

void AbortUnless(const Status& prepared) {
  if (prepared.ok()) return;
  fprintf(stderr, "bench setup: %s\n", prepared.ToString().c_str());
  std::abort();
}

}  // namespace certctl::bench
