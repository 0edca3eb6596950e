#include "certctl/ops/keyring.h"

#include <openssl/err.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"

namespace certctl::ops {

Result<std::shared_ptr<const LoadedCa>> CaKeyring::Get(const CaGenerationRecord& record) {
  auto id = std::make_pair(record.issuer_id, record.generation);
  {
    std::lock_guard lock(mu_);
    auto it = cas_.find(id);
    if (it != cas_.end() &&
        FingerprintSha256(it->second->cert.get()) == record.cert_sha256) {
      return it->second;
    }
  }
  auto loaded = std::make_shared<LoadedCa>();
  loaded->issuer_id = record.issuer_id;
  loaded->generation = record.generation;
  ASSIGN_OR_RETURN(loaded->cert, ParseCertificatePem(record.cert_pem));
  if (FingerprintSha256(loaded->cert.get()) != record.cert_sha256) {
    return Status::Corruption("CA generation " + std::to_string(record.generation) +
                              " of " + record.issuer_id +
                              ": stored certificate does not match its "
                              "recorded fingerprint");
  }
  auto key = LoadPrivateKeyFile(record.key_path);
  if (!key.ok()) {
    return key.status().WithContext("CA key of " + record.issuer_id + " generation " +
                                    std::to_string(record.generation));
  }
  loaded->key = std::move(key).value();
  if (X509_check_private_key(loaded->cert.get(), loaded->key.get()) != 1) {
    ERR_clear_error();
    return Status::FailedPrecondition("CA key file " + record.key_path +
                                      " does not match the "
                                      "certificate of " +
                                      record.issuer_id + " generation " +
                                      std::to_string(record.generation));
  }
  std::lock_guard lock(mu_);
  cas_[id] = loaded;
  return std::shared_ptr<const LoadedCa>(loaded);
}

void CaKeyring::Put(const std::string& issuer, int generation, CaMaterial material) {
  auto loaded = std::make_shared<LoadedCa>();
  loaded->issuer_id = issuer;
  loaded->generation = generation;
  loaded->cert = std::move(material.cert);
  loaded->key = std::move(material.key);
  std::lock_guard lock(mu_);
  cas_[{issuer, generation}] = std::move(loaded);
}

void CaKeyring::Clear() {
  std::lock_guard lock(mu_);
  cas_.clear();
}

}  // namespace certctl::ops
