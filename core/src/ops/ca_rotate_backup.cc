// The backup step of `ca rotate`.
//
// Until `ca backup` (BackupCaHoldingLock, certctl/ops/ca_backup.h) is on
// this branch, the step copies what a rotation must not lose: the
// certificate and key of every CA generation of the issuer, in ca backup's
// layout (ca-g{N}.crt, ca-g{N}.key, 0600, never over a file, in a new
// directory made 0700) with a manifest of SHA-256 sums written last.
#include <openssl/crypto.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/store/issuer_repo.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "ops/ca_rotate_internal.h"

namespace certctl::ops::rotation {

Result<std::string> BackupForRotation(OpContext& ctx, const RotationRecord& record,
                                      const std::string& dir, OpReport& /*report*/) {
  ASSIGN_OR_RETURN(auto generations,
                   ctx.db.Query<std::vector<CaGenerationRecord>>([&](Transaction& tx) {
                     return IssuerRepo::Generations(tx, record.issuer_id);
                   }));
  // Every key is read and checked before anything is written.
  std::vector<std::pair<std::string, std::string>> files;  // name, content
  // The copies of the keys are wiped however this returns.
  struct Wipe {
    std::vector<std::pair<std::string, std::string>>& files;
    ~Wipe() {
      for (auto& f : files) OPENSSL_cleanse(f.second.data(), f.second.size());
    }
  } wipe{files};
  for (const auto& g : generations) {
    if (g.state == GenerationState::kPending) continue;
    auto key_pem = ReadFile(g.key_path);
    if (!key_pem.ok()) return key_pem.status().WithContext("backup of the CA key");
    auto key = ParsePrivateKeyPem(*key_pem);
    ASSIGN_OR_RETURN(auto cert, ParseCertificatePem(g.cert_pem));
    if (!key.ok() || !SamePublicKey(key->get(), X509_get0_pubkey(cert.get()))) {
      return Status::FailedPrecondition("backup: " + g.key_path +
                                        " is not the key of CA generation " +
                                        std::to_string(g.generation));
    }
    std::string n = std::to_string(g.generation);
    files.emplace_back("ca-g" + n + ".crt", g.cert_pem);
    files.emplace_back("ca-g" + n + ".key", *key_pem);
    OPENSSL_cleanse(key_pem->data(), key_pem->size());
  }
  if (std::filesystem::exists(dir)) {
    return Status::AlreadyExists("backup directory " + dir + " exists");
  }
  RETURN_IF_ERROR(EnsureDirectory(dir, 0700));
  nlohmann::json manifest = {{"issuer", record.issuer_id},
                             {"files", nlohmann::json::array()}};
  for (const auto& [name, content] : files) {
    RETURN_IF_ERROR(WriteFileAtomic(std::filesystem::path(dir) / name, content,
                                    {.mode = 0600, .allow_overwrite = false}));
    manifest["files"].push_back({{"name", name}, {"sha256", Sha256Hex(content)}});
  }
  RETURN_IF_ERROR(WriteFileAtomic(std::filesystem::path(dir) / "manifest.json",
                                  manifest.dump(2) + "\n",
                                  {.mode = 0600, .allow_overwrite = false}));
  return std::to_string(files.size()) + " files and manifest.json";
}

}  // namespace certctl::ops::rotation
