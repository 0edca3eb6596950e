#include "certctl/pki/ossl.h"

#include <openssl/err.h>

namespace certctl {

Status OpenSslError(std::string_view context) {
  return OpenSslError(StatusCode::kInternal, context);
}

Status OpenSslError(StatusCode code, std::string_view context) {
  std::string message(context);
  bool first = true;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    message += first ? ": " : "; ";
    message += buf;
    first = false;
  }
  return Status(code, std::move(message));
}

namespace ossl_internal {

Result<std::string> TakeDer(int length, unsigned char* der, std::string_view what) {
  if (length <= 0 || der == nullptr) {
    OPENSSL_free(der);
    return OpenSslError("encode " + std::string(what));
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace ossl_internal

}  // namespace certctl
