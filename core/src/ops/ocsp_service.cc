// OcspService: certctld's answering engine, a bounded in-process LRU cache in
// front of OcspEngine (ocsp_response_cache and live signing).
#include <atomic>
#include <list>
#include <unordered_map>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/util/identifiers.h"
#include "ops/ocsp_engine.h"
#include "ops/ocsp_service_testing.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

struct MemoryEntry {
  std::string key;
  std::string issuer;
  std::string serial;
  std::string der;
  std::string cert_status;
  TimePoint this_update;
  TimePoint next_update;
};

// Issuer and CertID DER identify an answer exactly (hash algorithm, issuer
// hashes and serial are all in the CertID).
std::string MemoryKey(const std::string& issuer, const OcspCertId& id) {
  return issuer + '\x1f' + id.der;
}

bool IsOutage(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kBusy ||
         s.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

struct OcspService::Impl {
  Impl(OpContext ctx, size_t capacity)
      : engine(ctx), capacity(std::max<size_t>(capacity, 1)) {}

  internal::OcspEngine engine;
  const size_t capacity;
  std::function<void(const std::string&, const std::string&)> hook;

  mutable std::mutex mu;       // guards lru and index
  std::list<MemoryEntry> lru;  // most recently used first
  std::unordered_map<std::string, std::list<MemoryEntry>::iterator> index;
  // Bumped by every invalidation; a live answer read before a bump is not
  // put into memory (it may predate the revocation that caused it).
  std::atomic<uint64_t> invalidations{0};
  std::atomic<bool> database_down{false};

  std::optional<MemoryEntry> Lookup(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return *it->second;
  }

  void Store(MemoryEntry entry, uint64_t seen_invalidations) {
    std::lock_guard lock(mu);
    if (invalidations.load() != seen_invalidations) return;
    auto it = index.find(entry.key);
    if (it != index.end()) {
      lru.erase(it->second);
      index.erase(it);
    }
    lru.push_front(std::move(entry));
    index[lru.front().key] = lru.begin();
    while (lru.size() > capacity) {
      index.erase(lru.back().key);
      lru.pop_back();
    }
  }

  void NoteDatabase(bool down, const Status& why) {
    if (database_down.exchange(down) == down) return;  // log once per change
    auto& log = engine.context().logger;
    if (down) {
      log->warn("OCSP: database unreachable, serving answers from memory: {}",
                why.ToString());
    } else {
      log->info("OCSP: database reachable again");
    }
  }

  static ServedResponse FromEntry(const MemoryEntry& e) {
    ServedResponse a;
    a.der = e.der;
    a.cert_status = e.cert_status;
    a.cache_hit = true;
    a.from_memory = true;
    a.this_update = e.this_update;
    a.next_update = e.next_update;
    return a;
  }

  static ServedResponse Error(OcspResponseStatus status) {
    ServedResponse a;
    a.response_status = static_cast<int>(status);
    a.der = OcspErrorResponseDer(status);
    return a;
  }
};

OcspService::OcspService(OpContext ctx, size_t memory_entries)
    : impl_(std::make_unique<Impl>(std::move(ctx), memory_entries)) {}

OcspService::~OcspService() = default;

void OcspServiceTestPeer::SetBeforeWriteBackHook(OcspService& service,
                                                 WriteBackHook hook) {
  service.impl_->hook = std::move(hook);
}

OcspService::ServedResponse OcspService::Respond(const std::string& issuer,
                                                 std::string_view request_der) {
  auto& log = impl_->engine.context().logger;
  // Callers pass a canonical id (certctld's router does); anything else must
  // never reach the caches or the database, where libpq would cut it at a NUL.
  if (!IsIssuerId(issuer)) return Impl::Error(OcspResponseStatus::kUnauthorized);
  auto request = ParseOcspRequest(request_der);
  if (!request.ok()) {
    log->debug("malformed OCSP request for {}: {}", issuer, request.status().ToString());
    return Impl::Error(OcspResponseStatus::kMalformedRequest);
  }
  bool single = request->ids.size() == 1 && !request->nonce;
  std::string key = single ? MemoryKey(issuer, request->ids[0]) : std::string();
  std::optional<MemoryEntry> held = single ? impl_->Lookup(key) : std::nullopt;
  TimePoint now = impl_->engine.context().clock.Now();
  if (held && !PastHalfLife(held->this_update, held->next_update, now)) {
    return Impl::FromEntry(*held);
  }

  uint64_t seen = impl_->invalidations.load();
  internal::EngineOptions options;
  options.before_write_back = impl_->hook;
  auto answer = impl_->engine.Respond(issuer, *request, options);
  if (!answer.ok()) {
    if (IsOutage(answer.status())) {
      impl_->NoteDatabase(true, answer.status());
      // Past half its validity but not expired: still a correct answer.
      if (held && now < held->next_update) return Impl::FromEntry(*held);
      return Impl::Error(OcspResponseStatus::kTryLater);
    }
    log->error("OCSP answer for {} failed: {}", issuer, answer.status().ToString());
    return Impl::Error(OcspResponseStatus::kInternalError);
  }
  impl_->NoteDatabase(false, Status::Ok());
  ServedResponse out;
  out.der = answer->der;
  out.response_status = static_cast<int>(answer->response_status);
  out.cert_status = answer->cert_status;
  out.cache_hit = answer->cache_hit;
  out.nonce = request->nonce.has_value() &&
              answer->response_status == OcspResponseStatus::kSuccessful;
  out.this_update = answer->this_update;
  out.next_update = answer->next_update;
  // Only answers the shared cache agrees with go to memory: a live answer
  // whose write-back lost to a revocation is served once, never kept.
  if (answer->cacheable && (answer->cache_hit || answer->written)) {
    impl_->Store({key, issuer, answer->serial, answer->der, answer->cert_status,
                  *answer->this_update, *answer->next_update},
                 seen);
  }
  return out;
}

Result<OcspService::ServedResponse> OcspService::RespondForSerial(
    const std::string& issuer, std::string_view serial_text) {
  if (!IsIssuerId(issuer)) return Impl::Error(OcspResponseStatus::kUnauthorized);
  ASSIGN_OR_RETURN(Serial serial, Serial::Parse(serial_text));
  auto& ctx = impl_->engine.context();
  // The CertID of the generation that issued the serial (else the active one).
  auto ca_pem = ctx.db.Query<std::string>([&](Transaction& tx) -> Result<std::string> {
    ASSIGN_OR_RETURN(auto found,
                     internal::FindSerialAndGeneration(tx, issuer, serial.hex()));
    return found.generation ? found.generation->cert_pem : std::string();
  });
  if (ca_pem.ok()) {
    if (ca_pem->empty()) return Impl::Error(OcspResponseStatus::kUnauthorized);
    auto ca = ParseCertificatePem(*ca_pem);
    auto der = ca.ok() ? MakeOcspRequestDer(ca->get(), {serial})
                       : Result<std::string>(ca.status());
    if (der.ok()) return Respond(issuer, *der);
    ctx.logger->error("OCSP answer for {}/{} failed: {}", issuer, serial.hex(),
                      der.status().ToString());
    return Impl::Error(OcspResponseStatus::kInternalError);
  }
  if (!IsOutage(ca_pem.status())) {
    ctx.logger->error("OCSP answer for {}/{} failed: {}", issuer, serial.hex(),
                      ca_pem.status().ToString());
    return Impl::Error(OcspResponseStatus::kInternalError);
  }
  // PostgreSQL is away: whichever known generation has this serial in memory.
  impl_->NoteDatabase(true, ca_pem.status());
  for (const auto& g : impl_->engine.KnownGenerations(issuer)) {
    auto der = MakeOcspRequestDer(g.cert.get(), {serial});
    if (!der.ok()) continue;
    auto request = ParseOcspRequest(*der);
    if (!request.ok()) continue;
    auto held = impl_->Lookup(MemoryKey(issuer, request->ids[0]));
    if (held && ctx.clock.Now() < held->next_update) return Impl::FromEntry(*held);
  }
  return Impl::Error(OcspResponseStatus::kTryLater);
}

void OcspService::Invalidate(const Invalidation& what) {
  if (what.scope != "ocsp" && what.scope != "all") return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->invalidations.fetch_add(1);
    // A scan, not an index: invalidations are rare next to lookups.
    for (auto it = impl_->lru.begin(); it != impl_->lru.end();) {
      bool drop = (what.issuer.empty() || it->issuer == what.issuer) &&
                  (what.serial.empty() || it->serial == what.serial);
      if (drop) {
        impl_->index.erase(it->key);
        it = impl_->lru.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (what.serial.empty()) impl_->engine.ForgetResponders(what.issuer);
}

uint64_t OcspService::MaterialEvictions() const {
  return impl_->engine.MaterialEvictions();
}

size_t OcspService::MemoryEntries() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lru.size();
}

}  // namespace certctl::ops
