// OCSP answering cost on each of certctld's paths (OcspService::Respond, the
// function the POST and GET handlers call), against the harness PostgreSQL:
//
//   BM_OcspMemoryHit     the answer is in the in-process cache: parse the
//                        request, look it up, return the stored DER
//   BM_OcspBySerialMemoryHit  GET by serial, the answer in memory
//   BM_OcspDatabaseHit   not in memory (a one-entry memory cache and a
//                        rotating serial): read the ocsp_response_cache row
//                        with the status in one statement, check it (digest,
//                        current responder, agrees with
//                        certificate_revocations) and serve it
//   BM_OcspLiveSign      a request with a nonce, which bypasses every cache:
//                        the certificate's status (in memory after its first
//                        request), signed with the responder's ECDSA P-256 key
//   BM_OcspManyCertIds   one request for N certificates (1 .. 1000): signed
//                        live up to kMaxOcspRequestCertIds, malformed past it
//
//   ocsp_bench --benchmark_filter=Ocsp
//
// The certificates are inserted with one INSERT ... SELECT generate_series
// outside the timing.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_environment.h"
#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/ocsp.h"

namespace certctl {
namespace {

constexpr int kCertificates = 10000;
constexpr int kWarmSerials = 1000;  // answers cached in ocsp_response_cache

// kCertificates certificates, a quarter revoked (keyCompromise); the first
// kWarmSerials answered once, so their answers are in ocsp_response_cache.
struct Environment : bench::BenchEnvironment {
  std::vector<std::string> serials;   // the first kWarmSerials, canonical
  std::vector<std::string> requests;  // DER, one per warm serial, no nonce

  Status Prepare() {
    RETURN_IF_ERROR(BenchEnvironment::Prepare("ocsp_bench"));
    InsertCertificates(kCertificates, "abs(hashtext(serial)) % 4 = 0", "1");
    std::string list = testing::Sql(
        url,
        "SELECT string_agg(serial, ',' ORDER BY serial) FROM (SELECT serial FROM "
        "certificates ORDER BY serial LIMIT " +
            std::to_string(kWarmSerials) + ") s");
    for (size_t from = 0; from < list.size();) {
      size_t comma = std::min(list.find(',', from), list.size());
      serials.push_back(list.substr(from, comma - from));
      from = comma + 1;
    }
    auto ctx = Context();
    ops::OpReport responder;
    RETURN_IF_ERROR(ops::EnsureOcspResponder(ctx, kLocalIssuerId, 1, responder).status());
    ops::OcspService warm(Context());
    for (const auto& serial : serials) {
      ASSIGN_OR_RETURN(std::string der,
                       ops::MakeOcspRequest(ctx, kLocalIssuerId, serial));
      auto answer = warm.Respond(kLocalIssuerId, der);
      if (answer.response_status != 0 || answer.cert_status == "unknown") {
        return Status::Internal("warming " + serial + " answered " + answer.cert_status);
      }
      requests.push_back(std::move(der));
    }
    return Status::Ok();
  }
};

Environment& Env() {
  static std::unique_ptr<Environment> env;
  if (!env) {
    env = std::make_unique<Environment>();
    bench::AbortUnless(env->Prepare());
  }
  return *env;
}

// Fails the benchmark unless `answer` is a signed good/revoked answer from
// the expected source.
bool Check(benchmark::State& state, const ops::OcspService::ServedResponse& answer,
           bool cached, bool from_memory) {
  if (answer.response_status != 0 ||
      (answer.cert_status != "good" && answer.cert_status != "revoked") ||
      answer.cache_hit != cached || answer.from_memory != from_memory) {
    state.SkipWithError(("unexpected answer: status " + answer.cert_status +
                         ", cache_hit " + std::to_string(answer.cache_hit) +
                         ", from_memory " + std::to_string(answer.from_memory))
                            .c_str());
    return false;
  }
  return true;
}

void BM_OcspMemoryHit(benchmark::State& state) {
  Environment& env = Env();
  ops::OcspService service(env.Context());
  const std::string& request = env.requests.front();
  service.Respond(kLocalIssuerId, request);  // into memory
  for (auto _ : state) {
    auto answer = service.Respond(kLocalIssuerId, request);
    if (!Check(state, answer, true, true)) return;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OcspMemoryHit)->Unit(benchmark::kMicrosecond);

// GET .../serial/{hex} for an answer in memory: the CertID is built from the
// CA certificate held in memory (issue 13: it was read and parsed from the
// database on every request).
void BM_OcspBySerialMemoryHit(benchmark::State& state) {
  Environment& env = Env();
  ops::OcspService service(env.Context());
  const std::string& serial = env.serials.front();
  (void)service.RespondForSerial(kLocalIssuerId, serial);  // into memory
  for (auto _ : state) {
    auto answer = service.RespondForSerial(kLocalIssuerId, serial);
    if (!answer.ok()) return state.SkipWithError(answer.status().ToString().c_str());
    if (!Check(state, *answer, true, true)) return;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OcspBySerialMemoryHit)->Unit(benchmark::kMicrosecond);

void BM_OcspDatabaseHit(benchmark::State& state) {
  Environment& env = Env();
  ops::OcspService service(env.Context(), /*memory_entries=*/1);
  size_t i = 0;
  for (auto _ : state) {
    auto answer =
        service.Respond(kLocalIssuerId, env.requests[i++ % env.requests.size()]);
    if (!Check(state, answer, true, false)) return;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OcspDatabaseHit)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_OcspLiveSign(benchmark::State& state) {
  Environment& env = Env();
  ops::OcspService service(env.Context());
  std::vector<std::string> requests;
  for (size_t i = 0; i < 100; ++i) {
    auto serial = Serial::Parse(env.serials[i]);
    auto der = MakeOcspRequestDer(env.ca.cert.get(), {*serial}, nullptr,
                                  std::string(16, static_cast<char>('a' + i % 26)));
    if (!der.ok()) return state.SkipWithError(der.status().ToString().c_str());
    requests.push_back(*der);
  }
  size_t i = 0;
  for (auto _ : state) {
    auto answer = service.Respond(kLocalIssuerId, requests[i++ % requests.size()]);
    if (!Check(state, answer, false, false) || !answer.nonce) return;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OcspLiveSign)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One request asking about N certificates (no cache applies to more than
// one CertID): the cost that kMaxOcspRequestCertIds bounds. Past the cap the
// request is refused as malformed after parsing.
void BM_OcspManyCertIds(benchmark::State& state) {
  Environment& env = Env();
  ops::OcspService service(env.Context());
  std::vector<Serial> serials;
  for (int64_t i = 0; i < state.range(0); ++i) {
    serials.push_back(
        *Serial::Parse(env.serials[static_cast<size_t>(i) % env.serials.size()]));
  }
  auto der = MakeOcspRequestDer(env.ca.cert.get(), serials);
  if (!der.ok()) return state.SkipWithError(der.status().ToString().c_str());
  bool answered = state.range(0) <= kMaxOcspRequestCertIds;
  for (auto _ : state) {
    auto answer = service.Respond(kLocalIssuerId, *der);
    if ((answer.response_status == 0) != answered) {
      return state.SkipWithError(
          ("unexpected response status " + std::to_string(answer.response_status))
              .c_str());
    }
  }
  state.counters["request_bytes"] = static_cast<double>(der->size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OcspManyCertIds)
    ->Arg(1)
    ->Arg(16)
    ->Arg(64)
    ->Arg(65)
    ->Arg(256)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace certctl

BENCHMARK_MAIN();
