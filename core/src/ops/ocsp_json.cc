#include "certctl/ops/ocsp_json.h"

#include <cstdio>

#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

nlohmann::json OrNull(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OrNull(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json OrNull(const std::optional<ResponderCertificate>& r) {
  return r ? ToJson(*r) : nlohmann::json(nullptr);
}

std::string ModeString(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

nlohmann::json ToJson(const GenerationResponders& g) {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& h : g.history) history.push_back(ToJson(h));
  return {{"generation", g.generation},
          {"state", std::string(GenerationStateName(g.state))},
          {"responder", g.responder ? ToJson(*g.responder) : nlohmann::json(nullptr)},
          {"key_file", ToJson(g.key_file)},
          {"history", history}};
}

nlohmann::json ToJson(const OcspAnswerSeen& a) {
  nlohmann::json j = ToJson(a.certificate);
  j["this_update"] = FormatRfc3339(a.this_update);
  j["next_update"] = OrNull(a.next_update);
  j["produced_at"] = FormatRfc3339(a.produced_at);
  j["responder"] = a.responder;
  j["responder_serial"] = a.responder_serial;
  j["source"] = std::string(OcspAnswerSourceName(a.source));
  return j;
}

}  // namespace

nlohmann::json ToJson(const InspectedResponder& r) {
  nlohmann::json j = ToJson(r.certificate);
  j["ocsp_signing"] = r.ocsp_signing;
  j["ocsp_nocheck"] = r.ocsp_nocheck;
  j["digital_signature"] = r.digital_signature;
  j["issued_by_generation"] = r.issued_by_generation;
  j["key_algorithm"] = r.key_algorithm;
  return j;
}

nlohmann::json ToJson(const ResponderKeyFile& k) {
  nlohmann::json j = {
      {"path", k.path},
      {"exists", k.exists},
      {"mode", k.mode ? nlohmann::json(ModeString(*k.mode)) : nlohmann::json(nullptr)},
      {"owner", OrNull(k.owner)},
      {"matches_certificate", k.matches_certificate}};
  if (k.algorithm) j["algorithm"] = *k.algorithm;
  return j;
}

nlohmann::json ToJson(const ReplacedResponder& h) {
  return {{"serial", h.certificate.serial},
          {"subject", h.certificate.subject},
          {"not_before", FormatRfc3339(h.certificate.not_before)},
          {"not_after", FormatRfc3339(h.certificate.not_after)},
          {"created_at", FormatRfc3339(h.certificate.created_at)},
          {"replaced_at", OrNull(h.replaced_at)},
          {"reason", h.reason}};
}

nlohmann::json ToJson(const ResponderCertificate& r) {
  return {{"serial", r.serial},
          {"subject", r.subject},
          {"not_before", FormatRfc3339(r.not_before)},
          {"not_after", FormatRfc3339(r.not_after)},
          {"created_at", FormatRfc3339(r.created_at)},
          {"key_path", r.key_path}};
}

nlohmann::json ToJson(const ResponderEnsured& r) {
  return {{"issuer", r.issuer},
          {"generation", r.generation},
          {"action", std::string(ResponderActionName(r.action))},
          {"reason", r.reason},
          {"responder", OrNull(r.responder)}};
}

nlohmann::json ToJson(const ResponderRotations& r) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : r.responders) {
    list.push_back({{"issuer", e.issuer},
                    {"generation", e.generation},
                    {"action", std::string(ResponderActionName(e.action))},
                    {"reason", e.reason},
                    {"error", e.error.ok() ? nlohmann::json(nullptr)
                                           : nlohmann::json(e.error.ToString())}});
  }
  return {{"responders", list}};
}

nlohmann::json ToJson(const ResponderStatus& r) {
  nlohmann::json generations = nlohmann::json::array();
  for (const auto& g : r.generations) generations.push_back(ToJson(g));
  return {{"issuer", r.issuer}, {"generations", generations}};
}

nlohmann::json ToJson(const CertificateStatus& s) {
  return {{"status", std::string(OcspCertStatusName(s.status))},
          {"reason", OrNull(s.reason)},
          {"revoked_at", OrNull(s.revoked_at)}};
}

nlohmann::json ToJson(const OcspAnswerCheck& r) {
  return {{"issuer", r.issuer},
          {"serial", r.serial},
          {"database", ToJson(r.database)},
          {"responder", r.responder ? ToJson(*r.responder) : nlohmann::json(nullptr)}};
}

nlohmann::json ToJson(const ResponderState& s) {
  return {{"responder", OrNull(s.responder)}, {"ocsp_rows", s.ocsp_rows}};
}

nlohmann::json ToJson(const ResponderReset& r) {
  nlohmann::json j = {{"issuer", r.issuer},
                      {"generation", r.generation},
                      {"keep_key", r.keep_key},
                      {"key_path", r.key_path},
                      {"key_backup", r.key_backup},
                      {"old_serial", r.old_serial},
                      {"responder", OrNull(r.responder)},
                      {"ocsp_rows_deleted", r.ocsp_rows_deleted},
                      {"verified", r.verified}};
  if (r.live_check) j["live_check"] = ToJson(*r.live_check);
  return j;
}

}  // namespace certctl::ops
