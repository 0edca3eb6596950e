// Small PKI helpers for tests.
#pragma once

#include <openssl/types.h>

#include <string>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/util/clock.h"

namespace certctl::testing {

// A self-signed ECDSA P-256 CA certificate (keyCertSign, cRLSign) as PEM,
// valid from `not_before` to `not_after`; its key is thrown away (trust
// bundle tests only need certificates).
std::string SelfSignedCaPem(const std::string& cn, TimePoint not_before,
                            TimePoint not_after);

// A TLS server certificate for this machine, issued by `ca_cert`/`ca_key`
// with a fresh P-256 key: CN "localhost", serverAuth, valid from a minute
// ago for a day; subjectAltName DNS:localhost and, unless `without_ip`,
// IP:127.0.0.1 (so that a client connecting to 127.0.0.1 can also be shown
// to refuse it). Aborts the test binary when OpenSSL fails.
struct ServerCertificate {
  std::string cert_pem;
  UniquePtr<EVP_PKEY> key;
};
ServerCertificate LocalhostServerCertificate(X509* ca_cert, EVP_PKEY* ca_key,
                                             bool without_ip = false);

// A CSR built field by field with the raw bytes given, so that tests can say
// exactly what a hostile client would send (a NUL in a BMPString CN, 0xFF in
// an e-mail SAN, a thousand OUs). The self-signature is valid.
struct CsrSpec {
  struct Attribute {
    int nid;                // NID_commonName, NID_organizationalUnitName, ...
    int asn1_type;          // V_ASN1_UTF8STRING, V_ASN1_BMPSTRING, ... (raw bytes)
    std::string value;      // the string's content octets, as encoded
    bool same_rdn = false;  // join the previous attribute's RDN (multi-valued)
  };
  struct San {
    int type;           // GEN_DNS, GEN_EMAIL (IA5String bytes), GEN_IPADD (octets)
    std::string value;  // raw content octets
  };
  std::vector<Attribute> subject;
  std::vector<San> sans;
  int san_extensions = 1;   // how many subjectAltName extensions (when sans given)
  EVP_PKEY* key = nullptr;  // borrowed; a fresh P-256 key when null
};
std::string CsrPem(const CsrSpec& spec);

// A DER OCSPRequest with one more extension (OID `oid`, extnValue the DER
// `value`) on the request (`single` false) or on its first CertID.
std::string OcspRequestWithExtension(const std::string& der, const char* oid,
                                     bool critical, bool single,
                                     const std::string& value);
// A DER OCSPRequest with a nonce extension of `size` octets, any size (0 and
// over 128 included, which OpenSSL's own helper will not write).
std::string OcspRequestWithNonce(const std::string& der, size_t size);

// A UTF-8 CN attribute, the usual case.
CsrSpec::Attribute Cn(const std::string& value);
// `utf8` as the octets of a BMPString (UTF-16BE; BMP characters only).
std::string Bmp(const std::string& utf8);

}  // namespace certctl::testing
