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
CERTCTL_OSSL_DELETER(AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free);
CERTCTL_OSSL_DELETER(CRL_DIST_POINTS, CRL_DIST_POINTS_free);
CERTCTL_OSSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
CERTCTL_OSSL_DELETER(SSL_CTX, SSL_CTX_free);

// Stacks own their elements, as OpenSSL's *_pop_free does: freeing the stack
// frees what it holds. Push only what the stack may own (X509_up_ref a
// borrowed certificate first). GENERAL_NAMES, AUTHORITY_INFO_ACCESS and
// CRL_DIST_POINTS above are stacks too, with free functions of their own.
#define CERTCTL_OSSL_STACK_DELETER(type)                 \
  template <>                                            \
  struct OsslDeleter<STACK_OF(type)> {                   \
    void operator()(STACK_OF(type) * p) const noexcept { \
      sk_##type##_pop_free(p, type##_free);              \
    }                                                    \
  }

CERTCTL_OSSL_STACK_DELETER(X509);
CERTCTL_OSSL_STACK_DELETER(X509_EXTENSION);

#undef CERTCTL_OSSL_DELETER
#undef CERTCTL_OSSL_STACK_DELETER

template <typename T>
using UniquePtr = std::unique_ptr<T, OsslDeleter<T>>;

namespace ossl_internal {
// Takes over the buffer an i2d function allocated (`length` its result).
Result<std::string> TakeDer(int length, unsigned char* der, std::string_view what);
}  // namespace ossl_internal

// The DER encoding of `object` through its OpenSSL i2d function, e.g.
// `EncodeDer(i2d_X509, cert, "certificate")`. Internal ("encode <what>: ...")
// when OpenSSL fails, which for a well-formed object means out of memory.
template <typename I2d, typename T>
Result<std::string> EncodeDer(I2d i2d, T* object, std::string_view what) {
  unsigned char* der = nullptr;  // OpenSSL allocates it; TakeDer frees it
  int length = i2d(object, &der);
  return ossl_internal::TakeDer(length, der, what);
}

// Drains the thread's OpenSSL error queue into a Status:
// "<context>: <first reason>; <second reason>". Always returns a non-OK status
// (Internal), also when the queue was empty.
Status OpenSslError(std::string_view context);

// As OpenSslError but with another code (e.g. InvalidArgument for parse errors).
Status OpenSslError(StatusCode code, std::string_view context);

}  // namespace certctl
