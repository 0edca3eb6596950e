// The HTTPS listener's TLS context: TLS 1.2 and 1.3 only, the server
// certificate chain and key from files, replaced atomically on SIGHUP.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "certctl/util/status.h"

namespace boost::asio::ssl {
class context;
}

namespace certctl::daemon {

// Builds a server context from PEM files: the certificate file may hold the
// chain (leaf first); the key file must not be readable by group or others
// (LoadPrivateKeyFile) and must match the certificate. Configuration error
// naming the file otherwise.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_path, const std::string& key_path);

// Holds the current context. Thread-safe. A session takes a snapshot when it
// starts and keeps it for its life, so a reload never disturbs a connection.
class TlsContextHolder {
 public:
  TlsContextHolder(std::string cert_path, std::string key_path);
  // Loads the files; on failure the current context (if any) stays.
  Status Reload();
  // Null until the first successful Reload.
  std::shared_ptr<boost::asio::ssl::context> Current() const;
  const std::string& cert_path() const { return cert_path_; }

 private:
  std::string cert_path_, key_path_;
  mutable std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace certctl::daemon
