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
#include "ops/ocsp_write_back.h"
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
std::string MemoryKey(const std::string& issuer, const std::string& cert_id_der) {
  return issuer + '\x1f' + cert_id_der;
}
std::string MemoryKey(const std::string& issuer, const OcspCertId& id) {
  return MemoryKey(issuer, id.der);
}

bool IsOutage(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kBusy ||
         s.code() == StatusCode::kDeadlineExceeded;
}

}  // namespace

struct OcspService::Impl {
  Impl(OpContext ctx, size_t capacity, WriteBack mode, size_t queue)
      : engine(ctx, capacity), capacity(std::max<size_t>(capacity, 1)) {
    if (mode == WriteBack::kBatched) {
      write_back = std::make_unique<internal::OcspWriteBack>(
          ctx, queue, [this](const internal::PendingWriteBack& refused) {
            // The epoch moved (a revocation) after the answer was read: its
            // memory entry goes too, unless re-signed meanwhile.
            DropIfSame(MemoryKey(refused.row.issuer_id, refused.cert_id_der),
                       refused.row.response_der);
          });
    }
  }

  internal::OcspEngine engine;
  const size_t capacity;
  std::function<void(const std::string&, const std::string&)> hook;

  mutable std::mutex mu;       // guards lru and index
  std::list<MemoryEntry> lru;  // most recently used first
  std::unordered_map<std::string, std::list<MemoryEntry>::iterator> index;
  // engine.invalidations() is bumped by every invalidation; a live answer
  // read before a bump is not put into memory (it may predate the revocation
  // that caused it).
  std::atomic<bool> database_down{false};
  // Last: its thread (which calls DropIfSame) ends before the rest goes.
  std::unique_ptr<internal::OcspWriteBack> write_back;

  void DropIfSame(const std::string& key, const std::string& der) {
    std::lock_guard lock(mu);
    auto it = index.find(key);
    if (it == index.end() || it->second->der != der) return;
    lru.erase(it->second);
    index.erase(it);
  }

  std::optional<MemoryEntry> Lookup(const std::string& key) {
    std::lock_guard lock(mu);
    auto it = index.find(key);
    if (it == index.end()) return std::nullopt;
    lru.splice(lru.begin(), lru, it->second);
    return *it->second;
  }

  void Store(MemoryEntry entry, uint64_t seen_invalidations) {
    std::lock_guard lock(mu);
    if (engine.invalidations() != seen_invalidations) return;
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

OcspService::OcspService(OpContext ctx, size_t memory_entries, WriteBack write_back,
                         size_t write_back_queue)
    : impl_(std::make_unique<Impl>(std::move(ctx), memory_entries, write_back,
                                   write_back_queue)) {}

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

  uint64_t seen = impl_->engine.invalidations();
  internal::EngineOptions options;
  options.before_write_back = impl_->hook;
  if (impl_->write_back) {
    options.queue_write_back = [this](internal::PendingWriteBack item) {
      return impl_->write_back->Enqueue(std::move(item));
    };
  }
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
  // whose write-back lost to a revocation is served once, never kept (a
  // queued one is dropped from memory when its batch finds so, and in any
  // case by the revocation's own invalidation).
  if (answer->cacheable && (answer->cache_hit || answer->written || answer->queued)) {
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
  // The CertID of the generation that issued the serial (else the active
  // one), from memory when the issuer's generations and the serial's status
  // (or a single generation) say which.
  bool guessed = false;
  auto ca = CaForSerial(issuer, serial, guessed);
  if (ca.ok()) {
    if (!*ca) return Impl::Error(OcspResponseStatus::kUnauthorized);
    auto der = MakeOcspRequestDer(ca->get(), {serial});
    if (der.ok()) {
      auto answer = Respond(issuer, *der);
      // The only generation in memory was taken for a serial of unknown
      // status; "unknown" may mean a newer generation issued it: ask.
      if (!guessed || answer.cert_status != "unknown") return answer;
      ca = CaForSerial(issuer, serial, guessed, /*ask_database=*/true);
      if (ca.ok() && *ca) der = MakeOcspRequestDer(ca->get(), {serial});
      return ca.ok() && *ca && der.ok() ? Respond(issuer, *der) : answer;
    }
    ctx.logger->error("OCSP answer for {}/{} failed: {}", issuer, serial.hex(),
                      der.status().ToString());
    return Impl::Error(OcspResponseStatus::kInternalError);
  }
  if (!IsOutage(ca.status())) {
    ctx.logger->error("OCSP answer for {}/{} failed: {}", issuer, serial.hex(),
                      ca.status().ToString());
    return Impl::Error(OcspResponseStatus::kInternalError);
  }
  // PostgreSQL is away: whichever known generation has this serial in memory.
  impl_->NoteDatabase(true, ca.status());
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

Result<std::shared_ptr<X509>> OcspService::CaForSerial(const std::string& issuer,
                                                       const Serial& serial,
                                                       bool& guessed, bool ask_database) {
  auto& engine = impl_->engine;
  guessed = false;
  if (!ask_database) {
    auto generations = engine.Generations(issuer);
    if (!generations.ok()) {
      if (generations.status().code() == StatusCode::kNotFound) {
        return std::shared_ptr<X509>();
      }
      return generations.status();
    }
    auto own = engine.KnownGenerationOf(issuer, serial.hex());
    for (const auto& g : *generations) {
      if (own && g.generation == *own) return g.cert;
    }
    if (!own && generations->size() == 1) {
      guessed = true;
      return generations->front().cert;
    }
  }
  // Several generations and a serial not in memory: the database says.
  auto& ctx = engine.context();
  auto ca_pem = ctx.db.Query<std::string>([&](Transaction& tx) -> Result<std::string> {
    ASSIGN_OR_RETURN(auto found,
                     internal::FindSerialAndGeneration(tx, issuer, serial.hex()));
    return found.generation ? found.generation->cert_pem : std::string();
  });
  if (!ca_pem.ok()) return ca_pem.status();
  if (ca_pem->empty()) return std::shared_ptr<X509>();
  ASSIGN_OR_RETURN(auto parsed, ParseCertificatePem(*ca_pem));
  return std::shared_ptr<X509>(parsed.release(), X509_free);
}

void OcspService::Invalidate(const Invalidation& what) {
  if (what.scope != "ocsp" && what.scope != "all") return;
  {
    std::lock_guard lock(impl_->mu);
    // First: nothing read before this is stored after it (answers, statuses,
    // material; see OcspEngine).
    impl_->engine.BeginInvalidation();
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
  impl_->engine.Forget(what);
}

void OcspService::SetInvalidationsHeard(bool heard) {
  impl_->engine.SetMemoryTrusted(heard);
}

void OcspService::FlushWriteBacks() {
  if (impl_->write_back) impl_->write_back->Flush();
}

uint64_t OcspService::MaterialEvictions() const {
  return impl_->engine.MaterialEvictions();
}

size_t OcspService::MemoryEntries() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lru.size();
}

}  // namespace certctl::ops
