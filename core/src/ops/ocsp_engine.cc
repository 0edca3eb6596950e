#include "ops/ocsp_engine.h"

#include <openssl/err.h>

#include "certctl/ops/ocsp_ops.h"
#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/ocsp_responder.h"
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

std::string StatusWord(const std::vector<OcspSingleResponse>& answers) {
  std::string out;
  for (const auto& a : answers) {
    std::string s(OcspCertStatusName(a.status));
    if (out.empty()) out = s;
    if (out != s) return "mixed";
  }
  return out;
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

EngineResponse ErrorResponse(OcspResponseStatus status) {
  EngineResponse a;
  a.response_status = status;
  a.der = OcspErrorResponseDer(status);
  return a;
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

struct OcspEngine::ReadState {
  bool issuer_found = false;
  int64_t epoch = 0;
  std::vector<GenerationCa> generations;
  std::vector<int> matched;  // per CertID: the generation it names, 0 for none
  std::vector<std::optional<CertificateStatusRecord>> certificates;  // per CertID
  int signing_generation = 0;
  std::optional<OcspCacheRecord> cached;
  std::optional<OcspResponderRecord> responder_row;
};

OcspEngine::OcspEngine(OpContext ctx) : ctx_(std::move(ctx)) {}

std::vector<GenerationCa> OcspEngine::RememberGenerations(
    const std::string& issuer, const std::vector<CaGenerationRecord>& records) {
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
  MakeRoom(generations_, issuer, evictions_);
  generations_[issuer] = out;
  return out;
}

std::vector<GenerationCa> OcspEngine::KnownGenerations(const std::string& issuer) {
  std::lock_guard lock(mu_);
  auto it = generations_.find(issuer);
  return it == generations_.end() ? std::vector<GenerationCa>{} : it->second;
}

void OcspEngine::ForgetResponders(const std::string& issuer) {
  std::lock_guard lock(mu_);
  for (auto it = responders_.begin(); it != responders_.end();) {
    it = (issuer.empty() || it->first.first == issuer) ? responders_.erase(it)
                                                       : std::next(it);
  }
  ensure_failed_at_.clear();
}

Status OcspEngine::Read(const std::string& issuer, const OcspRequestInfo& request,
                        ReadState& st) {
  return ctx_.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::Ok();
    st.issuer_found = true;
    st.epoch = found->revocation_epoch;
    ASSIGN_OR_RETURN(auto records, IssuerRepo::Generations(tx, issuer));
    st.generations = RememberGenerations(issuer, records);
    st.matched.assign(request.ids.size(), 0);
    st.certificates.assign(request.ids.size(), std::nullopt);
    for (size_t i = 0; i < request.ids.size(); ++i) {
      const OcspCertId& id = request.ids[i];
      std::vector<int> candidates;
      for (const auto& g : st.generations) {
        if (CertIdIssuedBy(id, g.cert.get())) candidates.push_back(g.generation);
      }
      if (candidates.empty()) continue;
      st.matched[i] = candidates[0];
      if (!id.serial) continue;
      ASSIGN_OR_RETURN(st.certificates[i],
                       CertificateRepo::Find(tx, issuer, id.serial->hex()));
      // A re-certified CA key gives several generations the same hashes: the
      // certificate's own generation decides.
      if (st.certificates[i]) {
        int own = st.certificates[i]->certificate.generation;
        if (std::find(candidates.begin(), candidates.end(), own) != candidates.end()) {
          st.matched[i] = own;
        }
      }
    }
    for (int g : st.matched) {
      if (g != 0) {
        st.signing_generation = g;
        break;
      }
    }
    if (st.signing_generation == 0) return Status::Ok();
    const OcspCertId& first = request.ids[0];
    if (request.ids.size() == 1 && !request.nonce && first.serial &&
        !first.hash_name.empty()) {
      ASSIGN_OR_RETURN(st.cached, OcspCacheRepo::Find(tx, issuer, first.serial->hex(),
                                                      first.hash_name));
    }
    ASSIGN_OR_RETURN(st.responder_row,
                     OcspResponderRepo::Find(tx, issuer, st.signing_generation));
    return Status::Ok();
  });
}

Result<std::shared_ptr<const LoadedResponder>> OcspEngine::AcquireResponder(
    const std::string& issuer, const GenerationCa& ca,
    const std::optional<OcspResponderRecord>& row) {
  TimePoint now = ctx_.clock.Now();
  auto key = std::make_pair(issuer, ca.generation);
  bool due = !row || now >= row->not_after - ctx_.config.ocsp_responder_renew_before;
  if (!due) {
    {
      std::lock_guard lock(mu_);
      auto it = responders_.find(key);
      if (it != responders_.end() && it->second->serial == row->serial_number)
        return it->second;
    }
    auto loaded = LoadResponder(*row, ca.cert.get());
    if (loaded.ok()) {
      std::lock_guard lock(mu_);
      MakeRoom(responders_, key, evictions_);
      responders_[key] = *loaded;
      return loaded;
    }
    ctx_.logger->warn("OCSP responder of {}/g{} is not usable ({}); replacing it", issuer,
                      ca.generation, loaded.status().ToString());
  }
  return EnsureAndLoad(issuer, ca);
}

Result<std::shared_ptr<const LoadedResponder>> OcspEngine::EnsureAndLoad(
    const std::string& issuer, const GenerationCa& ca) {
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
  std::lock_guard lock(mu_);
  if (loaded.ok()) {
    MakeRoom(responders_, key, evictions_);
    responders_[key] = *loaded;
    ensure_failed_at_.erase(key);
    return loaded;
  }
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
  auto parsed = ParseOcspResponse(cached.response_der);
  bool ok = parsed.ok() && parsed->response_status == 0 && parsed->singles.size() == 1 &&
            parsed->singles[0].cert_id_der == id.der &&
            static_cast<int>(parsed->singles[0].status) == cached.cert_status &&
            OcspResponseSignedBy(*parsed, responder.cert.get());
  if (!ok) {
    ctx_.logger->warn(
        "cached OCSP answer for {}/{} ({}) is corrupt or not for this CertID; "
        "signing a fresh one",
        cached.issuer_id, cached.serial, cached.cert_id_hash);
  }
  return ok;
}

Result<EngineResponse> OcspEngine::Respond(const std::string& issuer,
                                           const OcspRequestInfo& request,
                                           const EngineOptions& options) {
  ReadState st;
  RETURN_IF_ERROR(Read(issuer, request, st));
  if (!st.issuer_found || st.signing_generation == 0) {
    return ErrorResponse(OcspResponseStatus::kUnauthorized);
  }
  const GenerationCa* ca = nullptr;
  for (const auto& g : st.generations) {
    if (g.generation == st.signing_generation) ca = &g;
  }
  std::vector<OcspSingleResponse> answers;
  for (size_t i = 0; i < request.ids.size(); ++i) {
    OcspSingleResponse a{&request.ids[i], OcspCertStatus::kUnknown};
    const auto& c = st.certificates[i];
    // Only what this generation issued is answered; everything else,
    // including serials never issued, is "unknown", never "good".
    if (st.matched[i] == st.signing_generation && c &&
        c->certificate.generation == st.signing_generation) {
      a.status = c->revocation ? OcspCertStatus::kRevoked : OcspCertStatus::kGood;
      if (c->revocation) {
        a.reason = c->revocation->reason;
        a.revoked_at = c->revocation->revoked_at;
        if (a.reason == CRL_REASON_REMOVE_FROM_CRL) {
          ctx_.logger->warn(
              "revocation of {}/{} has reason removeFromCRL; answered revoked "
              "without a reason",
              c->certificate.issuer_id, c->certificate.serial);
        }
      }
    }
    answers.push_back(a);
  }
  EngineResponse out;
  out.cert_status = StatusWord(answers);
  out.cacheable = request.ids.size() == 1 && !request.nonce && request.ids[0].serial &&
                  !request.ids[0].hash_name.empty() &&
                  answers[0].status != OcspCertStatus::kUnknown;
  if (out.cacheable) out.serial = request.ids[0].serial->hex();

  ASSIGN_OR_RETURN(auto responder, AcquireResponder(issuer, *ca, st.responder_row));
  TimePoint now = ctx_.clock.Now();
  if (out.cacheable && st.cached) {
    std::optional<int> expected;
    if (options.verify_cached_status) expected = static_cast<int>(answers[0].status);
    if (CachedResponseUsable(*st.cached, request.ids[0], *responder, expected, now)) {
      out.der = st.cached->response_der;
      out.cert_status =
          OcspCertStatusName(static_cast<OcspCertStatus>(st.cached->cert_status));
      out.cache_hit = true;
      out.this_update = st.cached->this_update;
      out.next_update = st.cached->next_update;
      return out;
    }
  }

  OcspSigningParams params{responder->cert.get(), responder->key.get(), now,
                           now + ctx_.config.ocsp_response_validity,
                           request.nonce ? request.request.get() : nullptr};
  ASSIGN_OR_RETURN(out.der, SignOcspResponse(answers, params));
  out.this_update = params.this_update;
  out.next_update = params.next_update;
  if (!out.cacheable || !options.write_back) return out;

  if (options.before_write_back) options.before_write_back(issuer, out.serial);
  OcspCacheRecord row;
  row.issuer_id = issuer;
  row.serial = out.serial;
  row.cert_id_hash = request.ids[0].hash_name;
  row.generation = st.signing_generation;
  row.cert_status = static_cast<int>(answers[0].status);
  row.response_der = out.der;
  row.this_update = params.this_update;
  row.next_update = params.next_update;
  row.produced_at = now;
  row.responder_serial = responder->serial;
  row.revocation_epoch = st.epoch;
  auto written = ctx_.db.Query<bool>(
      [&](Transaction& tx) { return OcspCacheRepo::PutIfEpochUnchanged(tx, row); });
  if (!written.ok()) {
    // The answer is still right as of the read; only the cache misses out.
    ctx_.logger->warn("could not cache the OCSP answer for {}/{}: {}", issuer, out.serial,
                      written.status().ToString());
  }
  out.written = written.ok() && *written;
  return out;
}

}  // namespace certctl::ops::internal
