// The names of a CA backup's files and its manifest.json (the format is
// ToJson(CaBackupManifest), certctl/ops/ca_json.h; this reads it back).
#include "ops/ca_backup_manifest.h"

#include <algorithm>
#include <set>

#include "certctl/ops/ca_json.h"
#include "certctl/util/time_format.h"

namespace certctl::ops {
namespace {

using nlohmann::json;

Status Invalid(const std::string& what) {
  return Status::InvalidArgument(std::string(kCaBackupManifestName) + ": " + what);
}

// The member `key` of `object` as T; InvalidArgument naming it otherwise.
template <typename T>
Result<T> Member(const json& object, const std::string& where, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end()) return Invalid(where + " has no \"" + key + "\"");
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    return Invalid(where + "." + key + " has the wrong type");
  }
}

Result<TimePoint> TimeMember(const json& object, const std::string& where,
                             const std::string& key) {
  ASSIGN_OR_RETURN(auto text, Member<std::string>(object, where, key));
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Invalid(where + "." + key + " is not a time: " + text);
  return *t;
}

template <typename T>
Result<std::optional<T>> OptionalMember(const json& object, const std::string& where,
                                        const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<T>();
  ASSIGN_OR_RETURN(T value, Member<T>(object, where, key));
  return std::optional<T>(std::move(value));
}

Result<json> ArrayMember(const json& object, const std::string& key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) {
    return Invalid("\"" + key + "\" is missing or not a list");
  }
  return *it;
}

bool IsSha256Hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A plain name in the backup directory: never a path out of it.
bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != kCaBackupManifestName && name[0] != '.' &&
         name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

Result<GenerationState> StateFrom(const std::string& where, const std::string& state) {
  if (state == "active") return GenerationState::kActive;
  if (state == "retired") return GenerationState::kRetired;
  return Invalid(where + ".state is not active or retired: " + state);
}

Result<CaBackupGeneration> GenerationFrom(const json& j, size_t i) {
  std::string where = "generations[" + std::to_string(i) + "]";
  CaBackupGeneration g;
  ASSIGN_OR_RETURN(g.generation, Member<int>(j, where, "generation"));
  ASSIGN_OR_RETURN(auto state, Member<std::string>(j, where, "state"));
  ASSIGN_OR_RETURN(g.state, StateFrom(where, state));
  ASSIGN_OR_RETURN(g.subject, Member<std::string>(j, where, "subject"));
  ASSIGN_OR_RETURN(g.fingerprint_sha256,
                   Member<std::string>(j, where, "fingerprint_sha256"));
  if (!IsSha256Hex(g.fingerprint_sha256)) {
    return Invalid(where + ".fingerprint_sha256 is not a SHA-256 in lowercase hex");
  }
  ASSIGN_OR_RETURN(g.not_before, TimeMember(j, where, "not_before"));
  ASSIGN_OR_RETURN(g.not_after, TimeMember(j, where, "not_after"));
  ASSIGN_OR_RETURN(g.key_path, Member<std::string>(j, where, "key_path"));
  ASSIGN_OR_RETURN(g.responder_serial,
                   OptionalMember<std::string>(j, where, "responder_serial"));
  return g;
}

Result<CaBackupFile> FileFrom(const json& j, size_t i) {
  std::string where = "files[" + std::to_string(i) + "]";
  CaBackupFile f;
  ASSIGN_OR_RETURN(f.name, Member<std::string>(j, where, "name"));
  if (!IsPlainFileName(f.name)) return Invalid(where + ".name is not a plain file name");
  ASSIGN_OR_RETURN(auto kind, Member<std::string>(j, where, "kind"));
  auto parsed = ParseCaBackupFileKind(kind);
  if (!parsed) return Invalid(where + ".kind is unknown: " + kind);
  f.kind = *parsed;
  ASSIGN_OR_RETURN(f.generation, OptionalMember<int>(j, where, "generation"));
  ASSIGN_OR_RETURN(f.source, Member<std::string>(j, where, "source"));
  ASSIGN_OR_RETURN(f.sha256, Member<std::string>(j, where, "sha256"));
  if (!IsSha256Hex(f.sha256)) {
    return Invalid(where + ".sha256 is not a SHA-256 in lowercase hex");
  }
  ASSIGN_OR_RETURN(f.size, Member<int64_t>(j, where, "size"));
  return f;
}

Result<CaBackupTrustBundle> TrustBundleFrom(const json& j, size_t i) {
  std::string where = "trust_bundles[" + std::to_string(i) + "]";
  CaBackupTrustBundle t;
  ASSIGN_OR_RETURN(t.name, Member<std::string>(j, where, "name"));
  ASSIGN_OR_RETURN(t.path, Member<std::string>(j, where, "path"));
  ASSIGN_OR_RETURN(t.file, Member<std::string>(j, where, "file"));
  return t;
}

// Fills the lists of `m` from `j`.
Status ListsFrom(const json& j, CaBackupManifest& m) {
  ASSIGN_OR_RETURN(json generations, ArrayMember(j, "generations"));
  for (size_t i = 0; i < generations.size(); ++i) {
    ASSIGN_OR_RETURN(auto g, GenerationFrom(generations[i], i));
    m.generations.push_back(std::move(g));
  }
  ASSIGN_OR_RETURN(json bundles, ArrayMember(j, "trust_bundles"));
  for (size_t i = 0; i < bundles.size(); ++i) {
    ASSIGN_OR_RETURN(auto t, TrustBundleFrom(bundles[i], i));
    m.trust_bundles.push_back(std::move(t));
  }
  ASSIGN_OR_RETURN(json files, ArrayMember(j, "files"));
  std::set<std::string> names;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSIGN_OR_RETURN(auto f, FileFrom(files[i], i));
    if (!names.insert(f.name).second) return Invalid(f.name + " is listed twice");
    m.files.push_back(std::move(f));
  }
  return Status::Ok();
}

}  // namespace

std::string_view CaBackupFileKindName(CaBackupFileKind kind) {
  switch (kind) {
    case CaBackupFileKind::kCaCertificate:
      return "ca_certificate";
    case CaBackupFileKind::kCaKey:
      return "ca_key";
    case CaBackupFileKind::kResponderCertificate:
      return "responder_certificate";
    case CaBackupFileKind::kResponderKey:
      return "responder_key";
    case CaBackupFileKind::kTrustBundle:
      return "trust_bundle";
  }
  return "unknown";
}

std::optional<CaBackupFileKind> ParseCaBackupFileKind(std::string_view name) {
  for (auto kind : {CaBackupFileKind::kCaCertificate, CaBackupFileKind::kCaKey,
                    CaBackupFileKind::kResponderCertificate,
                    CaBackupFileKind::kResponderKey, CaBackupFileKind::kTrustBundle}) {
    if (CaBackupFileKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

namespace internal {

std::string CaCertificateFileName(int generation) {
  return "ca-g" + std::to_string(generation) + ".crt";
}
std::string CaKeyFileName(int generation) {
  return "ca-g" + std::to_string(generation) + ".key";
}
std::string ResponderCertificateFileName(int generation) {
  return "ocsp-responder-g" + std::to_string(generation) + ".crt";
}
std::string ResponderKeyFileName(int generation) {
  return "ocsp-responder-g" + std::to_string(generation) + ".key";
}

std::string TrustBundleFileName(size_t index, std::string_view name) {
  std::string safe(name);
  for (char& c : safe) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!plain) c = '_';
  }
  return "trust-" + std::to_string(index) + "-" + safe + ".pem";
}

std::string EncodeManifest(const CaBackupManifest& manifest) {
  return ToJson(manifest).dump(2) + "\n";
}

Result<CaBackupManifest> DecodeManifest(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Invalid("not a JSON object");
  CaBackupManifest m;
  ASSIGN_OR_RETURN(m.format, Member<std::string>(j, "the manifest", "format"));
  if (m.format != kCaBackupFormat) {
    return Invalid("format is \"" + m.format + "\", not \"" + kCaBackupFormat + "\"");
  }
  ASSIGN_OR_RETURN(m.certctl_version,
                   Member<std::string>(j, "the manifest", "certctl_version"));
  ASSIGN_OR_RETURN(m.issuer, Member<std::string>(j, "the manifest", "issuer"));
  ASSIGN_OR_RETURN(m.created_at, TimeMember(j, "the manifest", "created_at"));
  ASSIGN_OR_RETURN(m.created_by, Member<std::string>(j, "the manifest", "created_by"));
  ASSIGN_OR_RETURN(m.host, Member<std::string>(j, "the manifest", "host"));
  ASSIGN_OR_RETURN(m.run_id, Member<std::string>(j, "the manifest", "run_id"));
  RETURN_IF_ERROR(ListsFrom(j, m));
  return m;
}

}  // namespace internal
}  // namespace certctl::ops
