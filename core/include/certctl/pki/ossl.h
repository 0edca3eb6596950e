// Owning pointers for OpenSSL objects, with stateless deleters.
//
// Wrap only what you own: results of *_new, *_get1_*, d2i_*, PEM_read_*. A
// get0 result is borrowed and must never be wrapped.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

#include "certctl/util/status.h"

namespace certctl {

template <typename T>
struct OsslDeleter;

#define CERTCTL_OSSL_DELETER(type, fn)                 \
  template <>                                          \
  struct OsslDeleter<type> {                           \
    void operator()(type* p) const noexcept { fn(p); } \
  }

CERTCTL_OSSL_DELETER(EVP_PKEY, EVP_PKEY_free);
CERTCTL_OSSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
CERTCTL_OSSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
CERTCTL_OSSL_DELETER(EVP_KDF, EVP_KDF_free);
CERTCTL_OSSL_DELETER(EVP_KDF_CTX, EVP_KDF_CTX_free);
CERTCTL_OSSL_DELETER(X509, X509_free);
CERTCTL_OSSL_DELETER(X509_REQ, X509_REQ_free);
CERTCTL_OSSL_DELETER(X509_CRL, X509_CRL_free);
CERTCTL_OSSL_DELETER(X509_REVOKED, X509_REVOKED_free);
CERTCTL_OSSL_DELETER(X509_NAME, X509_NAME_free);
CERTCTL_OSSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
CERTCTL_OSSL_DELETER(X509_STORE, X509_STORE_free);
CERTCTL_OSSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
CERTCTL_OSSL_DELETER(OCSP_REQUEST, OCSP_REQUEST_free);
CERTCTL_OSSL_DELETER(OCSP_RESPONSE, OCSP_RESPONSE_free);
CERTCTL_OSSL_DELETER(OCSP_BASICRESP, OCSP_BASICRESP_free);
CERTCTL_OSSL_DELETER(OCSP_CERTID, OCSP_CERTID_free);
CERTCTL_OSSL_DELETER(BIO, BIO_free_all);
CERTCTL_OSSL_DELETER(BIGNUM, BN_clear_free);
// ASN1_INTEGER, ASN1_TIME, ASN1_OCTET_STRING... are all ASN1_STRING.
CERTCTL_OSSL_DELETER(ASN1_STRING, ASN1_STRING_free);
CERTCTL_OSSL_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
CERTCTL_OSSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
CERTCTL_OSSL_DELETER(GENERAL_NAME, GENERAL_NAME_free);
CERTCTL_OSSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
CERTCTL_OSSL_DELETER(SSL_CTX, SSL_CTX_free);

#undef CERTCTL_OSSL_DELETER

template <typename T>
using UniquePtr = std::unique_ptr<T, OsslDeleter<T>>;

// Drains the thread's OpenSSL error queue into a Status:
// "<context>: <first reason>; <second reason>". Always returns a non-OK status
// (Internal), also when the queue was empty.
Status OpenSslError(std::string_view context);

// As OpenSslError but with another code (e.g. InvalidArgument for parse errors).
Status OpenSslError(StatusCode code, std::string_view context);

}  // namespace certctl
