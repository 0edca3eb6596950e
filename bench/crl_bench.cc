// CRL generation at scale: build time and peak memory for N revocations.
//
//   BM_BuildCrl/N       the builder alone (encode N entries, sign), no database
//   BM_RegenerateCrl/N  RegenerateCrl end to end on the harness PostgreSQL:
//                       stream N revocations with COPY, build, sign, parse back
//                       and verify, write crl_cache and the event row
//
//   BM_ServeCachedCrl/N certctld's cold read path: CrlService::Get reads the
//                       cached row, parses and verifies it
//
// Counters: entries, crl_mb (DER size), peak_rss_mb (getrusage ru_maxrss: the
// whole process's peak so far, so run one size per process to read it per
// size), hwm_mb (VmHWM, reset when the benchmark starts: this benchmark's own
// peak) and baseline_mb (VmRSS when it started, e.g. BM_BuildCrl's serials):
//
//   crl_bench --benchmark_filter='BM_RegenerateCrl/1000000/'
//
// The N revocations are inserted with one INSERT ... SELECT generate_series
// per size (outside the timing), so setting up 1M rows takes seconds.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <fstream>
#include <map>
#include <memory>

#include "bench/bench_environment.h"
#include "certctl/ops/crl_ops.h"
#include "certctl/pki/ca.h"
#include "certctl/pki/crl_builder.h"
#include "certctl/util/encoding.h"

namespace certctl {
namespace {

// Process-wide peak RSS since start (getrusage ru_maxrss, kilobytes on Linux).
double PeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// VmHWM/VmRSS from /proc/self/status, in MB; 0 when unavailable.
double ProcStatusMb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return 0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0), so that one benchmark's
// peak can be read even when several run in one process.
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

void MemoryCounters(benchmark::State& state, double baseline_mb) {
  state.counters["peak_rss_mb"] = PeakRssMb();
  state.counters["hwm_mb"] = ProcStatusMb("VmHWM");
  state.counters["baseline_mb"] = baseline_mb;
}

// One database with iss-local and N revoked certificates; reasons cycle
// through unspecified (no extension), keyCompromise, superseded, cessation.
struct Environment : bench::BenchEnvironment {
  bool regenerated = false;  // crl_cache holds a CRL of all N revocations

  Status Prepare(int64_t n) {
    RETURN_IF_ERROR(BenchEnvironment::Prepare("crl_bench"));
    InsertCertificates(n, "true", "(ARRAY[0, 1, 4, 5])[1 + abs(hashtext(serial)) % 4]");
    return Status::Ok();
  }
};

Environment& EnvironmentFor(int64_t n) {
  static std::map<int64_t, std::unique_ptr<Environment>> envs;
  auto& env = envs[n];
  if (!env) {
    env = std::make_unique<Environment>();
    bench::AbortUnless(env->Prepare(n));
  }
  return *env;
}

void BM_RegenerateCrl(benchmark::State& state) {
  Environment& env = EnvironmentFor(state.range(0));
  auto ctx = env.Context();
  ResetPeakRss();
  double baseline = ProcStatusMb("VmRSS");
  int64_t size = 0, entries = 0;
  for (auto _ : state) {
    ops::OpReport report;
    auto regenerated =
        ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kScheduled, report);
    if (!regenerated.ok() || regenerated->crls.empty()) {
      state.SkipWithError(regenerated.status().ToString().c_str());
      return;
    }
    env.regenerated = true;
    size = regenerated->crls[0].der_size;
    entries = regenerated->crls[0].revoked;
  }
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["crl_mb"] = static_cast<double>(size) / (1024.0 * 1024.0);
  MemoryCounters(state, baseline);
}
BENCHMARK(BM_RegenerateCrl)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// certctld's read path on a cold start: read the cached row, parse it,
// verify its signature and keep it in memory (CrlService::Get).
void BM_ServeCachedCrl(benchmark::State& state) {
  Environment& env = EnvironmentFor(state.range(0));
  auto ctx = env.Context();
  if (!env.regenerated) {
    ops::OpReport report;
    Status s = ops::RegenerateCrl(ctx, kLocalIssuerId, ops::CrlTrigger::kStartup, report)
                   .status();
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  ResetPeakRss();
  double baseline = ProcStatusMb("VmRSS");
  for (auto _ : state) {
    ops::CrlService service(ctx);
    auto served = service.Get(kLocalIssuerId, std::nullopt);
    if (!served.ok()) return state.SkipWithError(served.status().ToString().c_str());
    if (served->crl->revoked_count != state.range(0)) {
      return state.SkipWithError("served a CRL that was not the cached one");
    }
  }
  MemoryCounters(state, baseline);
}
BENCHMARK(BM_ServeCachedCrl)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_BuildCrl(benchmark::State& state) {
  static auto ca = CreateSelfSignedCa({}, std::chrono::system_clock::now());
  TimePoint now = std::chrono::system_clock::now();
  int64_t n = state.range(0);
  std::vector<std::string> serials;
  serials.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    serials.push_back("1" + Sha256Hex(std::to_string(i)).substr(0, 39));
  size_t size = 0;
  ResetPeakRss();
  double baseline = ProcStatusMb("VmRSS");
  for (auto _ : state) {
    auto b = CrlBuilder::Start(
        {ca->cert.get(), ca->key.get(), 1, now, now + std::chrono::hours(24)}, n);
    for (int64_t i = 0; i < n; ++i) {
      Status s = (*b)->Add(serials[static_cast<size_t>(i)], now, static_cast<int>(i % 2));
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    }
    auto der = (*b)->Finish();
    size = der->size();
    benchmark::DoNotOptimize(der->data());
  }
  state.counters["crl_mb"] = static_cast<double>(size) / (1024.0 * 1024.0);
  MemoryCounters(state, baseline);
}
BENCHMARK(BM_BuildCrl)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace certctl

BENCHMARK_MAIN();
