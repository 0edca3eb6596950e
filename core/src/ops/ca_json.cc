#include "certctl/ops/ca_json.h"

#include <cstdio>

#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json OrNull(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

std::string ModeString(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string StateName(GenerationState state) {
  return std::string(GenerationStateName(state));
}

nlohmann::json ToJson(const IssuerCaStatus& i);
nlohmann::json ToJson(const CaGenerationStatus& g);
nlohmann::json ToJson(const CaBackupGeneration& g);
nlohmann::json ToJson(const CaBackupTrustBundle& t);
nlohmann::json ToJson(const CaBackupFile& f);
nlohmann::json ToJson(const CaBackupFileCheck& c);
nlohmann::json ToJson(const CaBackupGenerationCheck& c);

template <typename T>
nlohmann::json List(const std::vector<T>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(ToJson(item));
  return out;
}

nlohmann::json ToJson(const UnfinishedRotation& r) {
  return {{"id", r.id},
          {"from_generation", r.from_generation},
          {"to_generation", OrNull(r.to_generation)},
          {"mode", r.mode},
          {"step", r.step},
          {"state", r.state},
          {"started_at", FormatRfc3339(r.started_at)},
          {"started_by", r.started_by}};
}

nlohmann::json ToJson(const CaKeyFile& k) {
  return {
      {"path", k.path},
      {"exists", k.exists},
      {"mode", k.mode ? nlohmann::json(ModeString(*k.mode)) : nlohmann::json(nullptr)},
      {"owner", OrNull(k.owner)},
      {"algorithm", OrNull(k.algorithm)},
      {"matches_certificate", k.matches_certificate},
      {"problem", OrNull(k.problem)}};
}

nlohmann::json ToJson(const CaGenerationStatus& g) {
  nlohmann::json backup = nullptr;
  if (g.backup) {
    backup = {{"id", g.backup->id},
              {"directory", g.backup->directory},
              {"created_at", FormatRfc3339(g.backup->created_at)},
              {"created_by", g.backup->created_by}};
  }
  return {{"generation", g.generation},
          {"state", StateName(g.state)},
          {"subject", g.subject},
          {"key_type", g.key_type},
          {"serial", g.serial},
          {"fingerprint_sha256", g.fingerprint_sha256},
          {"not_before", FormatRfc3339(g.not_before)},
          {"not_after", FormatRfc3339(g.not_after)},
          {"seconds_left", g.time_left.count()},
          {"expiry", std::string(CaExpiryName(g.expiry))},
          {"key_file", ToJson(g.key_file)},
          {"unexpired_certificates", g.unexpired_certificates},
          {"last_certificate_expiry", OrNull(g.last_certificate_expiry)},
          {"can_be_archived", g.can_be_archived},
          {"responder",
           {{"verdict", g.responder.verdict},
            {"serial", OrNull(g.responder.serial)},
            {"not_after", OrNull(g.responder.not_after)}}},
          {"crl",
           {{"verdict", g.crl.verdict},
            {"crl_number", OrNull(g.crl.crl_number)},
            {"next_update", OrNull(g.crl.next_update)}}},
          {"backup", backup}};
}

nlohmann::json ToJson(const IssuerCaStatus& i) {
  return {{"issuer", i.issuer},
          {"unfinished_rotation", i.unfinished_rotation ? ToJson(*i.unfinished_rotation)
                                                        : nlohmann::json(nullptr)},
          {"generations", List(i.generations)}};
}

nlohmann::json ToJson(const CaBackupGeneration& g) {
  return {{"generation", g.generation},
          {"state", StateName(g.state)},
          {"subject", g.subject},
          {"fingerprint_sha256", g.fingerprint_sha256},
          {"not_before", FormatRfc3339(g.not_before)},
          {"not_after", FormatRfc3339(g.not_after)},
          {"key_path", g.key_path},
          {"responder_serial", OrNull(g.responder_serial)}};
}

nlohmann::json ToJson(const CaBackupTrustBundle& t) {
  return {{"name", t.name}, {"path", t.path}, {"file", t.file}};
}

nlohmann::json ToJson(const CaBackupFile& f) {
  return {{"name", f.name},
          {"kind", std::string(CaBackupFileKindName(f.kind))},
          {"generation", OrNull(f.generation)},
          {"source", f.source},
          {"sha256", f.sha256},
          {"size", f.size}};
}

nlohmann::json ToJson(const CaBackupFileCheck& c) {
  return {{"name", c.name},
          {"verdict", std::string(CaBackupFileVerdictName(c.verdict))},
          {"detail", c.detail}};
}

nlohmann::json ToJson(const CaBackupGenerationCheck& c) {
  return {{"generation", c.generation},
          {"verdict", std::string(CaBackupGenerationVerdictName(c.verdict))},
          {"detail", c.detail}};
}

}  // namespace

nlohmann::json ToJson(const CaStatus& s) {
  return {{"thresholds",
           {{"warning", FormatDuration(s.thresholds.warning)},
            {"critical", FormatDuration(s.thresholds.critical)}}},
          {"issuers", List(s.issuers)}};
}

nlohmann::json ToJson(const CaBackupManifest& m) {
  return {{"format", m.format},
          {"certctl_version", m.certctl_version},
          {"issuer", m.issuer},
          {"created_at", FormatRfc3339(m.created_at)},
          {"created_by", m.created_by},
          {"host", m.host},
          {"run_id", m.run_id},
          {"generations", List(m.generations)},
          {"trust_bundles", List(m.trust_bundles)},
          {"files", List(m.files)}};
}

nlohmann::json ToJson(const CaBackupWritten& r) {
  return {{"issuer", r.issuer},
          {"directory", r.directory},
          {"manifest_sha256", OrNull(r.manifest_sha256)},
          {"backup_id", OrNull(r.backup_id)},
          {"manifest", ToJson(r.manifest)}};
}

nlohmann::json ToJson(const CaBackupVerified& r) {
  const auto& m = r.manifest;
  return {{"directory", r.directory},
          {"manifest_sha256", OrNull(r.manifest_sha256)},
          {"issuer", m ? nlohmann::json(m->issuer) : nlohmann::json(nullptr)},
          {"created_at",
           m ? nlohmann::json(FormatRfc3339(m->created_at)) : nlohmann::json(nullptr)},
          {"recorded_backup_id", OrNull(r.recorded_backup_id)},
          {"files", List(r.files)},
          {"generations", List(r.generations)}};
}

}  // namespace certctl::ops
