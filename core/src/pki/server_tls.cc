#include "certctl/pki/server_tls.h"

#include <openssl/x509.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/files.h"

namespace certctl {

Result<ServerTlsMaterial> LoadServerTlsMaterial(const std::string& cert_path,
                                                const std::string& key_path) {
  if (cert_path.empty() || key_path.empty()) {
    return Status::Configuration(
        "the HTTPS listener needs a certificate and key: set "
        "CERTCTL_SERVER_TLS_CERT_PATH and "
        "CERTCTL_SERVER_TLS_KEY_PATH");
  }
  ServerTlsMaterial m;
  auto pem = ReadFile(cert_path);
  if (!pem.ok()) {
    return Status::Configuration("server TLS certificate " + cert_path + ": " +
                                 pem.status().message());
  }
  auto chain = ParseCertificateBundlePem(*pem);
  if (!chain.ok()) {
    return Status::Configuration("server TLS certificate " + cert_path + ": " +
                                 chain.status().message());
  }
  m.chain = std::move(chain).value();
  // Through the project's loader so a key file readable by others is refused
  // as everywhere else.
  auto key = LoadPrivateKeyFile(key_path);
  if (!key.ok()) {
    return Status::Configuration("server TLS key: " + key.status().message());
  }
  m.key = std::move(key).value();
  if (X509_check_private_key(m.chain.front().get(), m.key.get()) != 1) {
    return OpenSslError(StatusCode::kConfiguration,
                        "server TLS key " + key_path + " does not match " + cert_path);
  }
  return m;
}

}  // namespace certctl
