// CrlService: the read-through CRL cache certctld serves from.
//
// Three layers, cheapest first:
//  1. memory: the last good CRL of each generation, served without any query
//     while it was verified less than recheck_interval ago and nothing
//     invalidated it;
//  2. crl_cache: the row's SHA-256 is compared with the CRL in memory (a
//     small query); a changed row is read, parsed and verified against the
//     generation's CA certificate before it is served;
//  3. live signing: RegenerateCrl(kFetch) under the CRL lock, which writes
//     the fresh CRL back with a generation event.
// When the database is unreachable (or live signing fails) the CRL in memory
// is served until its nextUpdate, never past it.
//
// certctld re-checks a CRL off the request path after the NOTIFY of a
// regeneration (MarkForReload, then ReloadMarked on its loader thread): a 1M-
// entry CRL takes seconds to read, parse and verify, and the requests
// meanwhile get the previous CRL, which is still valid. Every Get hands out
// the same immutable CrlArtifact, so concurrent responses share its bytes.
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "certctl/ops/crl_ops.h"
#include "certctl/util/identifiers.h"
#include "certctl/util/time_format.h"
#include "ops/crl_internal.h"
#include "store/crl_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops {
namespace {

struct Entry {
  std::mutex refresh;  // one refresh of this CRL at a time in this process
  // Guarded by CrlService::Impl::mu:
  std::shared_ptr<const CrlArtifact> crl;
  TimePoint checked_at;
  bool recheck = true;    // set by Invalidate
  bool degraded = false;  // serving memory because the database failed us
  bool reload = false;    // set by MarkForReload until ReloadMarked re-checks
  TimePoint reload_marked_at;
};

struct ActiveGeneration {
  int generation = 0;
  TimePoint checked_at;
  bool recheck = false;
};

}  // namespace

struct CrlService::Impl {
  OpContext ctx;
  CrlServiceOptions options;
  std::mutex mu;
  std::map<std::pair<std::string, int>, std::shared_ptr<Entry>> entries;
  std::map<std::string, ActiveGeneration> active;
  std::atomic<int64_t> loads{0};

  Impl(OpContext c, CrlServiceOptions o) : ctx(std::move(c)), options(o) {}

  bool Recent(TimePoint checked_at, TimePoint now) const {
    // A clock that went backwards makes every check look old, not new.
    return now >= checked_at && now - checked_at < options.recheck_interval;
  }
  // Under mu.
  bool Fresh(const Entry& e, TimePoint now) const {
    return e.crl && !e.recheck && Recent(e.checked_at, now) && e.crl->next_update > now;
  }
  // Under mu. A reload is on its way: the valid CRL in memory is served
  // meanwhile, for one recheck interval at most (should the loader stall,
  // Gets re-check themselves again).
  bool AwaitingReload(const Entry& e, TimePoint now) const {
    return e.crl && e.reload && Recent(e.reload_marked_at, now) &&
           e.crl->next_update > now;
  }
  bool Servable(const Entry& e, TimePoint now) const {
    return Fresh(e, now) || AwaitingReload(e, now);
  }

  std::shared_ptr<Entry> EntryFor(const std::string& issuer, int generation) {
    std::lock_guard lock(mu);
    auto& slot = entries[{issuer, generation}];
    if (!slot) slot = std::make_shared<Entry>();
    return slot;
  }

  void Forget(const std::string& issuer, int generation) {
    std::lock_guard lock(mu);
    auto it = entries.find({issuer, generation});
    if (it != entries.end() && !it->second->crl) entries.erase(it);
  }

  Result<int> ResolveGeneration(const std::string& issuer, std::optional<int> generation,
                                bool& touched_db);
  Result<Served> Refresh(const std::string& issuer, int generation, Entry& entry);
  Result<Served> SignLive(const std::string& issuer, const CaGenerationRecord& gen,
                          Entry& entry);
  Result<Served> Store(Entry& entry, CrlArtifact artifact);
  Result<Served> Fallback(const std::string& issuer, int generation, Entry& entry,
                          const Status& why);
};

Result<int> CrlService::Impl::ResolveGeneration(const std::string& issuer,
                                                std::optional<int> generation,
                                                bool& touched_db) {
  if (generation) return *generation;
  TimePoint now = ctx.clock.Now();
  std::optional<int> known;
  {
    std::lock_guard lock(mu);
    auto it = active.find(issuer);
    if (it != active.end()) {
      if (!it->second.recheck && Recent(it->second.checked_at, now))
        return it->second.generation;
      known = it->second.generation;
    }
  }
  touched_db = true;
  auto gen = ctx.db.Query<std::optional<CaGenerationRecord>>(
      [&](Transaction& tx) { return IssuerRepo::ActiveGeneration(tx, issuer); });
  if (!gen.ok()) {
    if (known) return *known;  // outage: keep serving the generation we knew
    return Status::Unavailable(
        "no CRL of " + issuer +
        " in memory and the database failed: " + gen.status().message());
  }
  if (!*gen) return Status::NotFound("unknown issuer " + issuer);
  std::lock_guard lock(mu);
  active[issuer] = {(*gen)->generation, now, false};
  return (*gen)->generation;
}

Result<CrlService::Served> CrlService::Impl::Store(Entry& entry, CrlArtifact artifact) {
  auto crl = std::make_shared<const CrlArtifact>(std::move(artifact));
  std::lock_guard lock(mu);
  if (entry.degraded)
    ctx.logger->info("CRL of {}: database back, serving verified CRLs again",
                     GenerationLabel(crl->issuer, crl->generation));
  entry.crl = crl;
  entry.checked_at = ctx.clock.Now();
  entry.recheck = false;
  entry.degraded = false;
  return Served{crl, false};
}

Result<CrlService::Served> CrlService::Impl::Fallback(const std::string& issuer,
                                                      int generation, Entry& entry,
                                                      const Status& why) {
  TimePoint now = ctx.clock.Now();
  std::lock_guard lock(mu);
  if (entry.crl && entry.crl->next_update > now) {
    if (!entry.degraded) {
      ctx.logger->warn("CRL of {}: serving CRL {} from memory until {} ({})",
                       GenerationLabel(issuer, generation), entry.crl->crl_number,
                       FormatRfc3339(entry.crl->next_update), why.ToString());
    }
    entry.degraded = true;
    // Back off: the next attempt to reach the database is one interval away.
    entry.checked_at = now;
    entry.recheck = false;
    return Served{entry.crl, true};
  }
  // Nothing to serve: keep no entry for it either, or requests for made-up
  // generations during an outage would each leave one behind for good.
  if (!entry.crl) {
    auto it = entries.find({issuer, generation});
    if (it != entries.end() && it->second.get() == &entry) entries.erase(it);
  }
  return Status::Unavailable("no valid CRL of " + GenerationLabel(issuer, generation) +
                             " to serve: " + why.message());
}

Result<CrlService::Served> CrlService::Impl::SignLive(const std::string& issuer,
                                                      const CaGenerationRecord& gen,
                                                      Entry& entry) {
  OpContext live = ctx;
  live.dry_run = false;
  live.lock_wait = options.generation_wait;
  OpReport report;
  std::vector<CrlArtifact> out;
  RegenerateOptions opts{gen.generation, /*reuse_valid_cache=*/true, &out};
  Status s = RegenerateCrl(live, issuer, CrlTrigger::kFetch, opts, report).status();
  if (s.ok() && !out.empty()) return Store(entry, std::move(out.front()));
  if (s.code() == StatusCode::kBusy) {
    // Still generating elsewhere after the wait; it may have written by now.
    auto row = ctx.db.Query<std::optional<CrlCacheRecord>>(
        [&](Transaction& tx) { return CrlRepo::Find(tx, issuer, gen.generation); });
    if (row.ok() && *row &&
        crl_internal::CheckCachedCrl(**row, gen, ctx.clock.Now()).ok()) {
      ++loads;
      return Store(entry, crl_internal::ArtifactFrom(std::move(**row)));
    }
  }
  if (s.ok()) s = Status::Internal("live signing produced no CRL");
  return Fallback(issuer, gen.generation, entry, s);
}

Result<CrlService::Served> CrlService::Impl::Refresh(const std::string& issuer,
                                                     int generation, Entry& entry) {
  struct Look {
    std::optional<CaGenerationRecord> gen;
    std::optional<CrlCacheRecord> summary;
  };
  auto look = ctx.db.Query<Look>([&](Transaction& tx) -> Result<Look> {
    Look l;
    ASSIGN_OR_RETURN(l.gen, IssuerRepo::FindGeneration(tx, issuer, generation));
    if (l.gen) {
      ASSIGN_OR_RETURN(l.summary, CrlRepo::FindSummary(tx, issuer, generation));
    }
    return l;
  });
  if (!look.ok()) return Fallback(issuer, generation, entry, look.status());
  if (!look->gen) {
    Forget(issuer, generation);
    return Status::NotFound("issuer " + issuer + " has no CA generation " +
                            std::to_string(generation));
  }
  TimePoint now = ctx.clock.Now();
  if (look->summary) {
    {
      std::lock_guard lock(mu);
      if (entry.crl && entry.crl->der_sha256 == look->summary->der_sha256 &&
          entry.crl->next_update > now) {
        entry.checked_at = now;  // the bytes we verified are still the row's
        entry.recheck = false;
        entry.degraded = false;
        return Served{entry.crl, false};
      }
    }
    auto row = ctx.db.Query<std::optional<CrlCacheRecord>>(
        [&](Transaction& tx) { return CrlRepo::Find(tx, issuer, generation); });
    if (!row.ok()) return Fallback(issuer, generation, entry, row.status());
    if (*row) {
      auto check = crl_internal::CheckCachedCrl(**row, *look->gen, now);
      if (check.ok()) {
        ++loads;
        return Store(entry, crl_internal::ArtifactFrom(std::move(**row)));
      }
      ctx.logger->warn("cached CRL of {} is {} ({}); signing a fresh one",
                       GenerationLabel(issuer, generation), CrlVerdictName(check.verdict),
                       check.detail);
    }
  } else {
    ctx.logger->info("no cached CRL of {}; signing one",
                     GenerationLabel(issuer, generation));
  }
  return SignLive(issuer, *look->gen, entry);
}

CrlService::CrlService(OpContext ctx) : CrlService(std::move(ctx), CrlServiceOptions{}) {}

CrlService::CrlService(OpContext ctx, CrlServiceOptions options)
    : impl_(std::make_unique<Impl>(std::move(ctx), options)) {}

CrlService::~CrlService() = default;

Result<CrlService::Served> CrlService::Get(const std::string& issuer,
                                           std::optional<int> generation) {
  // Only canonical ids and real generation numbers become map keys.
  RETURN_IF_ERROR(ParseIssuerId(issuer).status());
  if (generation) RETURN_IF_ERROR(ParseGeneration(std::to_string(*generation)).status());
  bool touched_db = false;
  ASSIGN_OR_RETURN(int gen, impl_->ResolveGeneration(issuer, generation, touched_db));
  auto entry = impl_->EntryFor(issuer, gen);
  auto fresh = [&]() -> std::optional<Served> {
    std::lock_guard lock(impl_->mu);
    if (!impl_->Servable(*entry, impl_->ctx.clock.Now())) return std::nullopt;
    return Served{entry->crl, !touched_db};
  };
  if (auto served = fresh()) return *served;
  std::unique_lock refreshing(entry->refresh, std::try_to_lock);
  if (!refreshing.owns_lock()) {
    // Another request is re-checking or re-signing this CRL (a 1M-entry CRL
    // takes a while): the valid one in memory is a correct answer meanwhile.
    {
      std::lock_guard lock(impl_->mu);
      if (entry->crl && entry->crl->next_update > impl_->ctx.clock.Now()) {
        return Served{entry->crl, true};
      }
    }
    refreshing.lock();
    if (auto served = fresh()) return *served;  // refreshed while we waited
  }
  return impl_->Refresh(issuer, gen, *entry);
}

size_t CrlService::MemoryEntries() const {
  std::lock_guard lock(impl_->mu);
  return impl_->entries.size();
}

void CrlService::Invalidate(const std::string& issuer) {
  std::lock_guard lock(impl_->mu);
  for (auto& [key, entry] : impl_->entries) {
    if (issuer.empty() || key.first == issuer) entry->recheck = true;
  }
  for (auto& [id, active] : impl_->active) {
    if (issuer.empty() || id == issuer) active.recheck = true;
  }
}

void CrlService::MarkForReload(const std::string& issuer) {
  Invalidate(issuer);
  TimePoint now = impl_->ctx.clock.Now();
  std::lock_guard lock(impl_->mu);
  for (auto& [key, entry] : impl_->entries) {
    if (!issuer.empty() && key.first != issuer) continue;
    entry->reload = true;
    entry->reload_marked_at = now;
  }
}

size_t CrlService::ReloadMarked() {
  std::vector<std::pair<std::pair<std::string, int>, std::shared_ptr<Entry>>> marked;
  std::set<std::string> issuers;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [key, entry] : impl_->entries) {
      if (!entry->reload) continue;
      marked.emplace_back(key, entry);
      issuers.insert(key.first);
    }
  }
  for (const auto& issuer : issuers) {
    bool touched_db = false;  // the active generation, so Gets need no query
    (void)impl_->ResolveGeneration(issuer, std::nullopt, touched_db);
  }
  for (auto& [key, entry] : marked) {
    std::lock_guard refreshing(entry->refresh);  // after a Get's refresh, if any
    bool still_marked = false;
    {
      std::lock_guard lock(impl_->mu);
      still_marked = entry->reload && entry->recheck;
    }
    // A failure was logged by Refresh and leaves the previous CRL served
    // (until its nextUpdate) or none; never one that failed its check.
    if (still_marked) (void)impl_->Refresh(key.first, key.second, *entry);
    std::lock_guard lock(impl_->mu);
    entry->reload = false;
  }
  return marked.size();
}

void CrlService::Publish(CrlArtifact crl) {
  auto entry = impl_->EntryFor(crl.issuer, crl.generation);
  std::lock_guard refreshing(entry->refresh);
  {
    // A reload may already have brought a later CRL (another process's).
    std::lock_guard lock(impl_->mu);
    if (entry->crl && entry->crl->crl_number >= crl.crl_number) return;
  }
  (void)impl_->Store(*entry, std::move(crl));
}

int64_t CrlService::Loads() const { return impl_->loads; }

}  // namespace certctl::ops
