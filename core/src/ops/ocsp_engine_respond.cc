// OcspEngine::Respond: the three ways to an answer (ops/ocsp_engine.h) and
// what they share: the answers for the CertIDs, the stored answer's check,
// the signing and the write-back.
#include <openssl/ocsp.h>

#include <filesystem>

#include "ops/ocsp_engine.h"
#include "store/certificate_repo.h"
#include "store/issuer_repo.h"
#include "store/ocsp_answer_repo.h"

namespace certctl::ops::internal {
namespace {

std::string StatusWord(const std::vector<OcspSingleResponse>& answers) {
  std::string out;
  for (const auto& a : answers) {
    std::string s(OcspCertStatusName(a.status));
    if (out.empty()) out = s;
    if (out != s) return "mixed";
  }
  return out;
}

EngineResponse ErrorResponse(OcspResponseStatus status) {
  EngineResponse a;
  a.response_status = status;
  a.der = OcspErrorResponseDer(status);
  return a;
}

std::vector<int> Candidates(const OcspCertId& id, const std::vector<GenerationCa>& gens) {
  std::vector<int> out;
  for (const auto& g : gens) {
    if (CertIdIssuedBy(id, g.cert.get())) out.push_back(g.generation);
  }
  return out;
}

// A re-certified CA key gives several generations the same hashes: the
// certificate's own generation decides.
int Matched(const std::vector<int>& candidates, std::optional<int> own) {
  if (own && std::find(candidates.begin(), candidates.end(), *own) != candidates.end()) {
    return *own;
  }
  return candidates.empty() ? 0 : candidates[0];
}

const GenerationCa* Find(const std::vector<GenerationCa>& gens, int generation) {
  for (const auto& g : gens) {
    if (g.generation == generation) return &g;
  }
  return nullptr;
}

using MaybeAnswer = std::optional<EngineResponse>;

std::optional<KnownStatus> StatusOf(const std::optional<CertificateStatusRecord>& c,
                                    TimePoint now) {
  if (!c) return std::nullopt;
  KnownStatus s{c->certificate.generation, std::nullopt, {}, now};
  if (c->revocation) {
    s.reason = c->revocation->reason;
    s.revoked_at = c->revocation->revoked_at;
  }
  return s;
}

}  // namespace

// What Finish needs to answer.
struct OcspEngine::Signing {
  const std::string& issuer;
  const OcspRequestInfo& request;
  std::vector<OcspSingleResponse> answers;
  int generation = 0;
  std::shared_ptr<const LoadedResponder> responder;
  std::optional<OcspCacheRecord> cached;
  int64_t epoch = 0;
};

struct OcspEngine::ReadState {
  bool issuer_found = false;
  int64_t epoch = 0;
  std::vector<GenerationCa> generations;
  std::vector<int> matched;  // per CertID: the generation it names, 0 for none
  std::vector<std::optional<KnownStatus>> statuses;  // per CertID
  int signing_generation = 0;
  std::optional<OcspCacheRecord> cached;
  std::optional<OcspResponderRecord> responder_row;
};

Result<EngineResponse> OcspEngine::Respond(const std::string& issuer,
                                           const OcspRequestInfo& request,
                                           const EngineOptions& options) {
  uint64_t seen = invalidations_.load();
  const OcspCertId& first = request.ids[0];
  bool cacheable = request.ids.size() == 1 && !request.nonce && first.serial &&
                   !first.hash_name.empty();
  // A cacheable request missed the service's memory: its stored answer may
  // spare a signing, so it is read (below) rather than signed from memory.
  if (!cacheable) {
    if (auto answer = RespondFromMemory(issuer, request)) return std::move(*answer);
  }
  if (request.ids.size() == 1 && first.serial) {
    ASSIGN_OR_RETURN(auto answer, RespondWithOneRead(issuer, request, options, seen));
    if (answer) return std::move(*answer);
  }
  return RespondWithFullRead(issuer, request, options, seen);
}

std::optional<EngineResponse> OcspEngine::RespondFromMemory(
    const std::string& issuer, const OcspRequestInfo& request) {
  if (!memory_trusted_) return std::nullopt;
  TimePoint now = ctx_.clock.Now();
  auto gens = KnownGenerations(issuer);
  if (gens.empty()) return std::nullopt;
  std::vector<int> matched;
  std::vector<std::optional<KnownStatus>> statuses;
  for (const auto& id : request.ids) {
    if (!id.serial) return std::nullopt;
    auto candidates = Candidates(id, gens);
    auto status = FreshStatus(issuer, id.serial->hex(), now);
    if (candidates.empty() || !status) return std::nullopt;
    matched.push_back(Matched(candidates, status->generation));
    statuses.push_back(status);
  }
  auto responder = LoadedResponderOf(issuer, matched[0]);
  if (!responder || ResponderDue(responder->not_after, now)) return std::nullopt;
  // A replaced responder's key file is retired (renamed) once the row names
  // its successor, and the runbook's recovery deletes it: then the database
  // says which responder signs now. A stat, not a query.
  std::error_code ec;
  if (!std::filesystem::exists(responder->key_path, ec)) return std::nullopt;
  Signing s{issuer, request, {}, matched[0], responder, std::nullopt, 0};
  for (size_t i = 0; i < request.ids.size(); ++i) {
    s.answers.push_back(
        AnswerFor(issuer, request.ids[i], matched[i], s.generation, statuses[i]));
  }
  EngineOptions no_write_back;
  no_write_back.write_back = false;
  auto answer = Finish(s, no_write_back);
  if (!answer.ok()) return std::nullopt;  // the other ways say what is wrong
  return std::move(answer).value();
}

Result<std::optional<EngineResponse>> OcspEngine::RespondWithOneRead(
    const std::string& issuer, const OcspRequestInfo& request,
    const EngineOptions& options, uint64_t seen) {
  const OcspCertId& id = request.ids[0];
  auto gens = KnownGenerations(issuer);
  auto candidates = Candidates(id, gens);
  if (candidates.empty()) return MaybeAnswer();  // unknown material: the full read
  std::string serial = id.serial->hex();
  std::string hash = request.nonce ? "" : id.hash_name;
  std::optional<OcspAnswerInputs> in;
  RETURN_IF_ERROR(ctx_.db.RunStatement([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(in, OcspAnswerRepo::Read(tx, issuer, serial, hash, candidates));
    return Status::Ok();
  }));
  if (!in) return MaybeAnswer();  // the issuer is gone: the full read answers
  auto own = in->certificate_generation;
  if (own && !Find(gens, *own)) return MaybeAnswer();  // a generation not yet known
  TimePoint now = ctx_.clock.Now();
  int matched = Matched(candidates, own);
  std::optional<KnownStatus> status;
  if (own) {
    status = KnownStatus{*own, in->revocation_reason, in->revoked_at, now};
    RememberStatus(issuer, serial, *status, seen);
  }
  // The responder row as read must be the one in memory, and not due.
  auto responder = LoadedResponderOf(issuer, matched);
  if (!responder || !in->responder_serial || *in->responder_serial != responder->serial ||
      ResponderDue(in->responder_not_after, now)) {
    return MaybeAnswer();  // bootstrap, rotation or reload: the full read
  }
  Signing s{issuer,
            request,
            {},
            matched,
            responder,
            std::move(in->cached),
            in->revocation_epoch};
  s.answers.push_back(AnswerFor(issuer, id, matched, matched, status));
  ASSIGN_OR_RETURN(EngineResponse out, Finish(s, options));
  return MaybeAnswer(std::move(out));
}

Status OcspEngine::Read(const std::string& issuer, const OcspRequestInfo& request,
                        ReadState& st, uint64_t seen) {
  return ctx_.db.Run([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(auto found, IssuerRepo::Find(tx, issuer));
    if (!found) return Status::Ok();
    st.issuer_found = true;
    st.epoch = found->revocation_epoch;
    ASSIGN_OR_RETURN(auto records, IssuerRepo::Generations(tx, issuer));
    st.generations = RememberGenerations(issuer, records, seen);
    st.matched.assign(request.ids.size(), 0);
    st.statuses.assign(request.ids.size(), std::nullopt);
    TimePoint now = ctx_.clock.Now();
    for (size_t i = 0; i < request.ids.size(); ++i) {
      const OcspCertId& id = request.ids[i];
      auto candidates = Candidates(id, st.generations);
      if (candidates.empty()) continue;
      st.matched[i] = candidates[0];
      if (!id.serial) continue;
      ASSIGN_OR_RETURN(auto certificate,
                       CertificateRepo::Find(tx, issuer, id.serial->hex()));
      st.statuses[i] = StatusOf(certificate, now);
      if (st.statuses[i]) st.matched[i] = Matched(candidates, st.statuses[i]->generation);
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

Result<EngineResponse> OcspEngine::RespondWithFullRead(const std::string& issuer,
                                                       const OcspRequestInfo& request,
                                                       const EngineOptions& options,
                                                       uint64_t seen) {
  ReadState st;
  RETURN_IF_ERROR(Read(issuer, request, st, seen));
  if (!st.issuer_found || st.signing_generation == 0) {
    return ErrorResponse(OcspResponseStatus::kUnauthorized);
  }
  for (size_t i = 0; i < request.ids.size(); ++i) {
    if (st.statuses[i]) {
      RememberStatus(issuer, request.ids[i].serial->hex(), *st.statuses[i], seen);
    }
  }
  const GenerationCa* ca = Find(st.generations, st.signing_generation);
  ASSIGN_OR_RETURN(auto responder, AcquireResponder(issuer, *ca, st.responder_row, seen));
  Signing s{issuer,  request, {}, st.signing_generation, responder, std::move(st.cached),
            st.epoch};
  for (size_t i = 0; i < request.ids.size(); ++i) {
    s.answers.push_back(AnswerFor(issuer, request.ids[i], st.matched[i],
                                  st.signing_generation, st.statuses[i]));
  }
  return Finish(s, options);
}

OcspSingleResponse OcspEngine::AnswerFor(const std::string& issuer, const OcspCertId& id,
                                         int matched, int signing,
                                         const std::optional<KnownStatus>& status) {
  OcspSingleResponse a{&id, OcspCertStatus::kUnknown};
  // Only what this generation issued is answered; everything else,
  // including serials never issued, is "unknown", never "good".
  if (matched != signing || !status || status->generation != signing) return a;
  a.status = status->reason ? OcspCertStatus::kRevoked : OcspCertStatus::kGood;
  if (status->reason) {
    a.reason = *status->reason;
    a.revoked_at = status->revoked_at;
    if (a.reason == CRL_REASON_REMOVE_FROM_CRL) {
      ctx_.logger->warn(
          "revocation of {}/{} has reason removeFromCRL; answered revoked "
          "without a reason",
          issuer, id.serial ? id.serial->hex() : std::string());
    }
  }
  return a;
}

Result<EngineResponse> OcspEngine::Finish(const Signing& s,
                                          const EngineOptions& options) {
  const OcspRequestInfo& request = s.request;
  EngineResponse out;
  out.cert_status = StatusWord(s.answers);
  out.cacheable = request.ids.size() == 1 && !request.nonce && request.ids[0].serial &&
                  !request.ids[0].hash_name.empty() &&
                  s.answers[0].status != OcspCertStatus::kUnknown;
  if (out.cacheable) out.serial = request.ids[0].serial->hex();
  TimePoint now = ctx_.clock.Now();
  if (out.cacheable && s.cached) {
    std::optional<int> expected;
    if (options.verify_cached_status) expected = static_cast<int>(s.answers[0].status);
    if (CachedResponseUsable(*s.cached, request.ids[0], *s.responder, expected, now)) {
      out.der = s.cached->response_der;
      out.cert_status =
          OcspCertStatusName(static_cast<OcspCertStatus>(s.cached->cert_status));
      out.cache_hit = true;
      out.this_update = s.cached->this_update;
      out.next_update = s.cached->next_update;
      return out;
    }
  }

  OcspSigningParams params{s.responder->cert.get(), s.responder->key.get(), now,
                           now + ctx_.config.ocsp_response_validity,
                           request.nonce ? request.request.get() : nullptr};
  ASSIGN_OR_RETURN(out.der, SignOcspResponse(s.answers, params));
  out.this_update = params.this_update;
  out.next_update = params.next_update;
  if (!out.cacheable || !options.write_back) return out;

  if (options.before_write_back) options.before_write_back(s.issuer, out.serial);
  OcspCacheRecord row;
  row.issuer_id = s.issuer;
  row.serial = out.serial;
  row.cert_id_hash = request.ids[0].hash_name;
  row.generation = s.generation;
  row.cert_status = static_cast<int>(s.answers[0].status);
  row.response_der = out.der;
  row.this_update = params.this_update;
  row.next_update = params.next_update;
  row.produced_at = now;
  row.responder_serial = s.responder->serial;
  row.revocation_epoch = s.epoch;
  row.answer_digest = CachedAnswerDigest(row, request.ids[0].der);
  if (options.queue_write_back) {
    out.queued = options.queue_write_back({std::move(row), request.ids[0].der});
    return out;
  }
  auto written = ctx_.db.RunStatement([&](Transaction& tx) -> Status {
    ASSIGN_OR_RETURN(out.written, OcspCacheRepo::PutIfEpochUnchanged(tx, row));
    return Status::Ok();
  });
  if (!written.ok()) {
    // The answer is still right as of the read; only the cache misses out.
    ctx_.logger->warn("could not cache the OCSP answer for {}/{}: {}", s.issuer,
                      out.serial, written.ToString());
    out.written = false;
  }
  return out;
}

}  // namespace certctl::ops::internal
