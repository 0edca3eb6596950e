#include "daemon/tls_context.h"

#include <boost/asio/ssl/context.hpp>

#include "certctl/pki/server_tls.h"

namespace certctl::daemon {
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are
// OpenSSL's defaults, all of which qualify).
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

Result<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_path,
                                                           const std::string& key_path) {
  // The files are read and judged by the function `config check` calls too.
  ASSIGN_OR_RETURN(ServerTlsMaterial material,
                   LoadServerTlsMaterial(cert_path, key_path));
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return OpenSslError(StatusCode::kConfiguration, "TLS settings");
  }
  if (SSL_CTX_use_certificate(native, material.chain.front().get()) != 1) {
    return OpenSslError(StatusCode::kConfiguration,
                        "server TLS certificate " + cert_path);
  }
  for (size_t i = 1; i < material.chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(native, material.chain[i].get()) != 1) {
      return OpenSslError(StatusCode::kConfiguration,
                          "server TLS certificate chain " + cert_path);
    }
  }
  if (SSL_CTX_use_PrivateKey(native, material.key.get()) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    return OpenSslError(StatusCode::kConfiguration,
                        "server TLS key " + key_path + " does not match " + cert_path);
  }
  return ctx;
}

TlsContextHolder::TlsContextHolder(std::string cert_path, std::string key_path)
    : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)) {}

Status TlsContextHolder::Reload() {
  ASSIGN_OR_RETURN(auto ctx, MakeServerTlsContext(cert_path_, key_path_));
  std::lock_guard lock(mu_);
  current_ = std::move(ctx);
  return Status::Ok();
}

std::shared_ptr<ssl::context> TlsContextHolder::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

}  // namespace certctl::daemon
