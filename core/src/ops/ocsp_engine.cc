#include "ops/ocsp_engine.h"

#include <openssl/err.h>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
#include "certctl/util/encoding.h"
#include "certctl/util/time_format.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"

namespace certctl::ops::internal {
namespace {

// A failed bootstrap is retried at most this often per generation, so that a
// broken CA key does not turn every request into a lock round-trip.
constexpr auto kEnsureRetryInterval = std::chrono::seconds(30);
// How long a request waits for another process's responder bootstrap.
constexpr auto kBootstrapLockWait = std::chrono::seconds(15);

std::string StatusKey(const std::string& issuer, const std::string& serial) {
  return issuer + '\x1f' + serial;
}

// Appends a length-prefixed field (no field can run into the next).
void AddField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Makes room for `key` in a map capped at OcspEngine::kMaxMaterialEntries by
// dropping an arbitrary other entry (all of them can be re-read).
template <typename Map>
void MakeRoom(Map& map, const typename Map::key_type& key,
              std::atomic<uint64_t>& evictions) {
  if (map.size() < OcspEngine::kMaxMaterialEntries || map.count(key)) return;
  map.erase(map.begin());
  ++evictions;
}

}  // namespace

Result<SerialAndGeneration> FindSerialAndGeneration(Transaction& tx,
                                                    const std::string& issuer,
                                                    const std::string& serial) {
  SerialAndGeneration out;
  ASSIGN_OR_RETURN(out.certificate, CertificateRepo::Find(tx, issuer, serial));
  if (out.certificate) {
    ASSIGN_OR_RETURN(
        out.generation,
        IssuerRepo::FindGeneration(tx, issuer, out.certificate->certificate.generation));
  } else {
    ASSIGN_OR_RETURN(out.generation, IssuerRepo::ActiveGeneration(tx, issuer));
  }
  return out;
}

Result<std::shared_ptr<const LoadedResponder>> LoadResponder(
    const OcspResponderRecord& row, X509* ca_cert) {
  auto r = std::make_shared<LoadedResponder>();
  r->issuer = row.issuer_id;
  r->generation = row.generation;
  r->serial = row.serial_number;
  r->key_path = row.key_path;
  r->not_after = row.not_after;
  ASSIGN_OR_RETURN(r->cert, ParseCertificatePem(row.cert_pem));
  if (!SignedBy(r->cert.get(), ca_cert)) {
    return Status::FailedPrecondition("responder certificate " + row.serial_number +
                                      " was not issued by CA generation " +
                                      std::to_string(row.generation));
  }
  if (!InspectResponderProfile(r->cert.get()).complete()) {
    return Status::FailedPrecondition(
        "responder certificate " + row.serial_number +
        " lacks OCSPSigning, ocsp-nocheck or digitalSignature");
  }
  ASSIGN_OR_RETURN(r->key, LoadPrivateKeyFile(row.key_path));
  if (!SamePublicKey(r->key.get(), X509_get0_pubkey(r->cert.get()))) {
    return Status::FailedPrecondition("key file " + row.key_path +
                                      " does not match responder certificate " +
                                      row.serial_number);
  }
  return std::shared_ptr<const LoadedResponder>(std::move(r));
}

ResponderCertificate CertificateOf(const OcspResponderRecord& row) {
  return {row.serial_number, row.cert_subject, row.not_before,
          row.not_after,     row.created_at,   row.key_path};
}

Status VerifyResponderWithTestAnswer(const LoadedResponder& responder, X509* ca_cert,
                                     TimePoint now, std::chrono::seconds validity) {
  ASSIGN_OR_RETURN(Serial serial, Serial::Parse(responder.serial));
  ASSIGN_OR_RETURN(std::string request_der, MakeOcspRequestDer(ca_cert, {serial}));
  ASSIGN_OR_RETURN(OcspRequestInfo request, ParseOcspRequest(request_der));
  OcspSingleResponse answer{&request.ids[0], OcspCertStatus::kGood};
  ASSIGN_OR_RETURN(std::string der,
                   SignOcspResponse({answer}, {responder.cert.get(), responder.key.get(),
                                               now, now + validity, nullptr}));
  ASSIGN_OR_RETURN(ParsedOcspResponse parsed, ParseOcspResponse(der));
  return VerifyOcspResponse(parsed, ca_cert);
}

std::string CachedAnswerDigest(const OcspCacheRecord& row,
                               const std::string& cert_id_der) {
  auto micros = [](TimePoint t) {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch())
            .count());
  };
  std::string text = "certctl-ocsp-answer-v1";
  for (std::string_view field :
       {std::string_view(row.issuer_id), std::string_view(row.serial),
        std::string_view(row.cert_id_hash), std::string_view(cert_id_der)}) {
    AddField(text, field);
  }
  AddField(text, std::to_string(row.generation));
  AddField(text, std::to_string(row.cert_status));
  AddField(text, row.responder_serial);
  AddField(text, micros(row.this_update));
  AddField(text, micros(row.next_update));
  AddField(text, row.response_der);
  return Sha256(text);
}

OcspEngine::OcspEngine(OpContext ctx, size_t status_entries)
    : ctx_(std::move(ctx)), status_entries_(std::max<size_t>(status_entries, 1)) {}

std::vector<GenerationCa> OcspEngine::RememberGenerations(
    const std::string& issuer, const std::vector<CaGenerationRecord>& records,
    uint64_t seen) {
  std::vector<GenerationCa> out;
  std::lock_guard lock(mu_);
  for (const auto& g : records) {
    MakeRoom(ca_by_fingerprint_, g.cert_sha256, evictions_);
    auto& cert = ca_by_fingerprint_[g.cert_sha256];
    if (!cert) {
      auto parsed = ParseCertificatePem(g.cert_pem);
      if (!parsed.ok()) {
        ctx_.logger->error("CA generation {} of {} does not parse: {}", g.generation,
                           issuer, parsed.status().ToString());
        ca_by_fingerprint_.erase(g.cert_sha256);
        continue;
      }
      cert = std::shared_ptr<X509>(std::move(parsed).value().release(), X509_free);
    }
    out.push_back({g.generation, cert});
  }
  // Read before an invalidation that came since: used once, not kept.
  if (invalidations_.load() != seen) return out;
  MakeRoom(generations_, issuer, evictions_);
  generations_[issuer] = out;
  return out;
}

std::vector<GenerationCa> OcspEngine::KnownGenerations(const std::string& issuer) {
  std::lock_guard lock(mu_);
  auto it = generations_.find(issuer);
  return it == generations_.end() ? std::vector<GenerationCa>{} : it->second;
}

Result<std::vector<GenerationCa>> OcspEngine::Generations(const std::string& issuer) {
  auto known = KnownGenerations(issuer);
  if (!known.empty()) return known;
  uint64_t seen = invalidations_.load();
  std::vector<CaGenerationRecord> records;
  RETURN_IF_ERROR(ctx_.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::NotFound("no issuer " + issuer);
    ASSIGN_OR_RETURN(records, IssuerRepo::Generations(tx, issuer));
    return Status::Ok();
  }));
  return RememberGenerations(issuer, records, seen);
}

void OcspEngine::RememberStatus(const std::string& issuer, const std::string& serial,
                                const KnownStatus& status, uint64_t seen) {
  std::lock_guard lock(mu_);
  if (invalidations_.load() != seen) return;
  std::string key = StatusKey(issuer, serial);
  if (statuses_.size() >= status_entries_ && !statuses_.count(key)) {
    statuses_.erase(statuses_.begin());  // any one: it can be read again
  }
  statuses_[key] = status;
}

std::optional<KnownStatus> OcspEngine::FreshStatus(const std::string& issuer,
                                                   const std::string& serial,
                                                   TimePoint now) {
  std::lock_guard lock(mu_);
  auto it = statuses_.find(StatusKey(issuer, serial));
  if (it == statuses_.end()) return std::nullopt;
  // No older than a memory answer may be: half the answer validity.
  if (now - it->second.read_at >= ctx_.config.ocsp_response_validity / 2) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<int> OcspEngine::KnownGenerationOf(const std::string& issuer,
                                                 const std::string& serial) {
  auto status = FreshStatus(issuer, serial, ctx_.clock.Now());
  if (!status) return std::nullopt;
  return status->generation;
}

void OcspEngine::Forget(const Invalidation& what) {
  std::lock_guard lock(mu_);
  if (!what.serial.empty()) {
    statuses_.erase(StatusKey(what.issuer, what.serial));
    return;
  }
  auto of_issuer = [&](const std::string& issuer) {
    return what.issuer.empty() || issuer == what.issuer;
  };
  for (auto it = statuses_.begin(); it != statuses_.end();) {
    it = of_issuer(it->first.substr(0, it->first.find('\x1f'))) ? statuses_.erase(it)
                                                                : std::next(it);
  }
  for (auto it = generations_.begin(); it != generations_.end();) {
    it = of_issuer(it->first) ? generations_.erase(it) : std::next(it);
  }
  for (auto it = responders_.begin(); it != responders_.end();) {
    it = of_issuer(it->first.first) ? responders_.erase(it) : std::next(it);
  }
  ensure_failed_at_.clear();
}

bool OcspEngine::ResponderDue(TimePoint not_after, TimePoint now) const {
  return now >= not_after - ctx_.config.ocsp_responder_renew_before;
}

std::shared_ptr<const LoadedResponder> OcspEngine::LoadedResponderOf(
    const std::string& issuer, int generation) {
  std::lock_guard lock(mu_);
  auto it = responders_.find({issuer, generation});
  return it == responders_.end() ? nullptr : it->second;
}

void OcspEngine::KeepResponder(const std::shared_ptr<const LoadedResponder>& r,
                               uint64_t seen) {
  std::lock_guard lock(mu_);
  // A responder read before an invalidation (a reset) signs once, is not kept.
  if (invalidations_.load() != seen) return;
  auto key = std::make_pair(r->issuer, r->generation);
  MakeRoom(responders_, key, evictions_);
  responders_[key] = r;
}

Result<std::shared_ptr<const LoadedResponder>> OcspEngine::AcquireResponder(
    const std::string& issuer, const GenerationCa& ca,
    const std::optional<OcspResponderRecord>& row, uint64_t seen) {
  TimePoint now = ctx_.clock.Now();
  bool due = !row || ResponderDue(row->not_after, now);
  if (!due) {
    auto loaded_before = LoadedResponderOf(issuer, ca.generation);
    if (loaded_before && loaded_before->serial == row->serial_number)
      return loaded_before;
    auto loaded = LoadResponder(*row, ca.cert.get());
    if (loaded.ok()) {
      KeepResponder(*loaded, seen);
      return loaded;
    }
    ctx_.logger->warn("OCSP responder of {}/g{} is not usable ({}); replacing it", issuer,
                      ca.generation, loaded.status().ToString());
  }
  return EnsureAndLoad(issuer, ca, seen);
}

Result<std::shared_ptr<const LoadedResponder>> OcspEngine::EnsureAndLoad(
    const std::string& issuer, const GenerationCa& ca, uint64_t seen) {
  auto key = std::make_pair(issuer, ca.generation);
  std::lock_guard ensure_lock(ensure_mu_);
  TimePoint now = ctx_.clock.Now();
  std::shared_ptr<const LoadedResponder> previous;
  {
    std::lock_guard lock(mu_);
    auto it = responders_.find(key);
    if (it != responders_.end()) previous = it->second;
    auto failed = ensure_failed_at_.find(key);
    bool recently_failed =
        failed != ensure_failed_at_.end() && now - failed->second < kEnsureRetryInterval;
    if (recently_failed && previous && now < previous->not_after) return previous;
  }
  OpContext ctx = ctx_;
  ctx.dry_run = false;
  ctx.lock_wait = std::max<std::chrono::milliseconds>(ctx.lock_wait, kBootstrapLockWait);
  OpReport report;
  Status ensured = EnsureOcspResponder(ctx, issuer, ca.generation, report).status();
  for (const auto& step : report.steps) ctx_.logger->info("OCSP responder: {}", step);
  std::optional<OcspResponderRecord> row;
  if (ensured.ok()) {
    auto read = ctx_.db.Query<std::optional<OcspResponderRecord>>([&](Transaction& tx) {
      return OcspResponderRepo::Find(tx, issuer, ca.generation);
    });
    if (!read.ok()) return read.status();
    row = std::move(read).value();
    if (!row)
      ensured = Status::Internal("responder row vanished right after it was ensured");
  }
  Result<std::shared_ptr<const LoadedResponder>> loaded =
      ensured.ok() ? LoadResponder(*row, ca.cert.get()) : ensured;
  if (loaded.ok()) {
    KeepResponder(*loaded, seen);
    std::lock_guard lock(mu_);
    ensure_failed_at_.erase(key);
    return loaded;
  }
  std::lock_guard lock(mu_);
  MakeRoom(ensure_failed_at_, key, evictions_);
  ensure_failed_at_[key] = now;
  ctx_.logger->error("OCSP responder of {}/g{} could not be ensured: {}", issuer,
                     ca.generation, loaded.status().ToString());
  // Still-valid material beats no answer at all.
  if (previous && now < previous->not_after) return previous;
  return loaded.status();
}

bool OcspEngine::CachedResponseUsable(const OcspCacheRecord& cached, const OcspCertId& id,
                                      const LoadedResponder& responder,
                                      std::optional<int> expected_status, TimePoint now) {
  if (cached.generation != responder.generation ||
      cached.responder_serial != responder.serial) {
    return false;  // signed by an earlier responder: re-sign
  }
  if (PastHalfLife(cached.this_update, cached.next_update, now)) return false;
  if (expected_status && cached.cert_status != *expected_status) {
    ctx_.logger->warn(
        "cached OCSP answer for {}/{} says {} but the database says {}; "
        "signing a fresh one",
        cached.issuer_id, cached.serial,
        OcspCertStatusName(static_cast<OcspCertStatus>(cached.cert_status)),
        OcspCertStatusName(static_cast<OcspCertStatus>(*expected_status)));
    return false;
  }
  bool ok = false;
  if (cached.answer_digest) {
    // Written by this version: the digest says the row is what its writer
    // signed for this CertID, status and responder, at a hash's cost.
    ok = ConstantTimeEquals(*cached.answer_digest, CachedAnswerDigest(cached, id.der));
  } else {
    // An older row: parse it and check its signature.
    auto parsed = ParseOcspResponse(cached.response_der);
    ok = parsed.ok() && parsed->response_status == 0 && parsed->singles.size() == 1 &&
         parsed->singles[0].cert_id_der == id.der &&
         static_cast<int>(parsed->singles[0].status) == cached.cert_status &&
         OcspResponseSignedBy(*parsed, responder.cert.get());
  }
  if (!ok) {
    ctx_.logger->warn(
        "cached OCSP answer for {}/{} ({}) is corrupt or not for this CertID; "
        "signing a fresh one",
        cached.issuer_id, cached.serial, cached.cert_id_hash);
  }
  return ok;
}

}  // namespace certctl::ops::internal
