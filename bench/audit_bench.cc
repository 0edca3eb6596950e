// The keyed audit chain: what signing and anchoring cost an operation, and
// how fast `audit verify` walks a long log.
//
//   BM_AppendAuditEvent/0   ops::WriteAuditEvent, its own transaction: chain
//                           lock, read the head, sign, insert, commit
//   BM_AppendAuditEvent/1   the same plus this host's anchor file (flock,
//                           write, fsync, rename)
//   BM_VerifyAuditLog/N     ops::VerifyAuditLog over N rows with the anchor:
//                           stream with a cursor, HMAC each row, classify
//
//   audit_bench --benchmark_filter=BM_VerifyAuditLog/100000
//
// The N rows of BM_VerifyAuditLog are appended in one transaction before the
// timing (about a minute for 100k on a loaded laptop).
#include <benchmark/benchmark.h>

#include <map>

#include "bench/bench_environment.h"
#include "certctl/ops/audit_json.h"
#include "certctl/ops/audit_ops.h"
#include "certctl/ops/op_json.h"
#include "store/audit_repo.h"

namespace certctl {
namespace {

struct Environment : bench::BenchEnvironment {
  Status Prepare(bool anchored) {
    RETURN_IF_ERROR(BenchEnvironment::Prepare("audit_bench"));
    if (anchored) config.audit_anchor_file = dir / "audit.anchor";
    return Status::Ok();
  }
  // n more events, in one transaction (the chain lock is taken once).
  Status Fill(int64_t n) {
    ASSIGN_OR_RETURN(audit::AuditKey key, audit::AuditKey::FromConfig(config));
    AuditEvent e;
    e.actor = "bench";
    e.host = "bench-host";
    e.action = "crl.regenerate";
    e.target = "iss-local";
    e.command_line = "certctl-admin crl regenerate iss-local";
    e.parameters_json = R"({"issuer": "iss-local"})";
    e.duration_ms = 12;
    return db->Run([&](Transaction& tx) -> Status {
      for (int64_t i = 0; i < n; ++i)
        RETURN_IF_ERROR(AuditRepo::Append(tx, key, e).status());
      return Status::Ok();
    });
  }
};

void BM_AppendAuditEvent(benchmark::State& state) {
  Environment env;
  bench::AbortUnless(env.Prepare(state.range(0) == 1));
  auto ctx = env.Context();
  for (auto _ : state) {
    Status s = ops::WriteAuditEvent(ctx, "crl.regenerate", "iss-local", "bench", true,
                                    {{"issuer", "iss-local"}});
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
}
BENCHMARK(BM_AppendAuditEvent)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_VerifyAuditLog(benchmark::State& state) {
  static std::map<int64_t, std::unique_ptr<Environment>> envs;
  auto& env = envs[state.range(0)];
  if (!env) {
    env = std::make_unique<Environment>();
    bench::AbortUnless(env->Prepare(/*anchored=*/true));
    bench::AbortUnless(env->Fill(state.range(0) - 1));  // and the registration's
    auto ctx = env->Context();  // an append through ops writes the anchor
    bench::AbortUnless(ops::WriteAuditEvent(ctx, "bench.fill", "", "", true));
  }
  auto ctx = env->Context();
  for (auto _ : state) {
    ops::OpReport report;
    auto verified = ops::VerifyAuditLog(ctx, report);
    if (!verified.ok() || !verified->intact) {
      state.SkipWithError(
          ("not intact: " + ops::ReportJson(report, verified).dump()).c_str());
    }
    state.counters["rows"] =
        verified.ok() ? static_cast<double>(verified->rows_checked) : 0.0;
  }
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(state.range(0)) * state.iterations(),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VerifyAuditLog)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace certctl

BENCHMARK_MAIN();
