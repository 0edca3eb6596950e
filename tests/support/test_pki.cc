#include "support/test_pki.h"

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/serial.h"

namespace certctl::testing {
namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "test_pki: %s failed\n", what);
  std::abort();
}

// OpenSSL refuses to encode a name whose strings it cannot read (invalid
// UTF-8, an odd-length BMPString), and a hostile client never asks it. So the
// subject is written with NumericString placeholders of the values' lengths
// (a type OpenSSL copies as it is, without reading it); Patch() then gives
// each placeholder its wanted tag and content and the request is signed by
// hand.
std::string Placeholder(size_t index, size_t length) {
  std::string out(length, '\0');
  for (size_t k = 0; k < length; ++k) {
    out[length - 1 - k] =
        static_cast<char>(k < sizeof index ? (index >> (8 * k)) & 0xff : 0);
  }
  if (length > 0) out[0] = static_cast<char>(out[0] | 0x80);
  return out;
}

std::string DerLength(size_t n) {
  if (n < 0x80) return std::string(1, static_cast<char>(n));
  std::string bytes;
  for (; n > 0; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xff));
  return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}

std::string Tlv(int tag, const std::string& content) {
  return std::string(1, static_cast<char>(tag)) + DerLength(content.size()) + content;
}

void AddSubject(X509_NAME* name, const CsrSpec& spec) {
  for (size_t i = 0; i < spec.subject.size(); ++i) {
    const auto& a = spec.subject[i];
    std::string marker = Placeholder(i, a.value.size());
    X509_NAME_ENTRY* e = X509_NAME_ENTRY_create_by_NID(
        nullptr, a.nid, V_ASN1_NUMERICSTRING,
        reinterpret_cast<const unsigned char*>(marker.data()),
        static_cast<int>(marker.size()));
    if (!e || X509_NAME_add_entry(name, e, -1, a.same_rdn ? -1 : 0) != 1) {
      Fail("subject attribute");
    }
    X509_NAME_ENTRY_free(e);
  }
}

// The to-be-signed request with every placeholder replaced (same lengths, so
// no enclosing length changes). The name comes first in the request, and a
// multi-valued RDN is a DER SET, sorted: each placeholder is searched from
// the start (they differ by index).
std::string Patch(std::string tbs, const CsrSpec& spec) {
  for (size_t i = 0; i < spec.subject.size(); ++i) {
    const auto& a = spec.subject[i];
    std::string placeholder = Tlv(V_ASN1_NUMERICSTRING, Placeholder(i, a.value.size()));
    size_t at = tbs.find(placeholder);
    if (at == std::string::npos) Fail("find subject placeholder");
    tbs.replace(at, placeholder.size(), Tlv(a.asn1_type, a.value));
  }
  return tbs;
}

std::string SignRequest(X509_REQ* req, EVP_PKEY* key, const CsrSpec& spec) {
  if (X509_REQ_sign(req, key, SigningDigest(key)) <= 0) Fail("CSR signature");
  auto tbs_der = EncodeDer(i2d_re_X509_REQ_tbs, req, "CSR info");
  if (!tbs_der.ok()) Fail("encode CSR info");
  std::string tbs = Patch(*tbs_der, spec);
  UniquePtr<EVP_MD_CTX> md(EVP_MD_CTX_new());
  size_t sig_len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(tbs.data());
  if (EVP_DigestSignInit(md.get(), nullptr, SigningDigest(key), nullptr, key) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &sig_len, data, tbs.size()) != 1) {
    Fail("sign CSR info");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     data, tbs.size()) != 1) {
    Fail("sign CSR info");
  }
  sig.resize(sig_len);
  const ASN1_BIT_STRING* old_sig = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_REQ_get0_signature(req, &old_sig, &alg);
  auto alg_der = EncodeDer(i2d_X509_ALGOR, alg, "CSR signature algorithm");
  if (!alg_der.ok()) Fail("encode CSR signature algorithm");
  return Tlv(V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED,
             tbs + *alg_der + Tlv(V_ASN1_BIT_STRING, std::string(1, '\0') + sig));
}

void AddSans(X509_REQ* req, const CsrSpec& spec) {
  if (spec.sans.empty()) return;
  UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  for (const auto& san : spec.sans) {
    ASN1_STRING* s =
        san.type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (!s ||
        ASN1_STRING_set(s, san.value.data(), static_cast<int>(san.value.size())) != 1)
      Fail("SAN value");
    GENERAL_NAME* gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gn, san.type, s);
    sk_GENERAL_NAME_push(names.get(), gn);
  }
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  for (int i = 0; i < spec.san_extensions; ++i) {
    sk_X509_EXTENSION_push(exts.get(),
                           X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
  }
  if (X509_REQ_add_extensions(req, exts.get()) != 1) Fail("CSR extensions");
}

}  // namespace

std::string SelfSignedCaPem(const std::string& cn, TimePoint not_before,
                            TimePoint not_after) {
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  auto serial = Serial::Random();
  if (!key.ok() || !serial.ok()) std::abort();
  IssueRequest r;
  r.common_name = cn;
  r.public_key = key->get();
  r.not_before = not_before;
  r.not_after = not_after;
  r.is_ca = true;
  r.key_usage = "keyCertSign,cRLSign";
  auto cert = IssueCertificate(r, *serial, nullptr, key->get());
  if (!cert.ok()) std::abort();
  return CertificateToPem(cert->get());
}

ServerCertificate LocalhostServerCertificate(X509* ca_cert, EVP_PKEY* ca_key,
                                             bool without_ip) {
  auto key = GenerateKey(KeyAlgorithm::kEcdsaP256);
  if (!key.ok()) Fail("server key");
  auto serial = Serial::Random();
  if (!serial.ok()) Fail("server certificate serial");
  IssueRequest r;
  r.common_name = "localhost";
  r.public_key = key->get();
  r.not_before = std::chrono::system_clock::now() - std::chrono::minutes(1);
  r.not_after = r.not_before + std::chrono::hours(24);
  r.key_usage = "digitalSignature";
  r.extended_key_usage = "serverAuth";
  r.dns_names = {"localhost"};
  if (!without_ip) r.ip_addresses = {"127.0.0.1"};
  auto cert = IssueCertificate(r, *serial, ca_cert, ca_key);
  if (!cert.ok()) Fail("server certificate");
  return {CertificateToPem(cert->get()), std::move(key).value()};
}

std::string CsrPem(const CsrSpec& spec) {
  UniquePtr<EVP_PKEY> fresh;
  EVP_PKEY* key = spec.key;
  if (!key) {
    auto made = GenerateKey(KeyAlgorithm::kEcdsaP256);
    if (!made.ok()) Fail("key");
    fresh = std::move(made).value();
    key = fresh.get();
  }
  UniquePtr<X509_REQ> req(X509_REQ_new());
  AddSubject(X509_REQ_get_subject_name(req.get()), spec);
  AddSans(req.get(), spec);
  if (X509_REQ_set_pubkey(req.get(), key) != 1) Fail("CSR key");
  std::string der = SignRequest(req.get(), key, spec);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio(bio.get(), "CERTIFICATE REQUEST", "",
                reinterpret_cast<const unsigned char*>(der.data()),
                static_cast<long>(der.size()));
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

CsrSpec::Attribute Cn(const std::string& value) {
  return {NID_commonName, V_ASN1_UTF8STRING, value};
}

std::string Bmp(const std::string& utf8) {
  std::string out;
  for (size_t i = 0; i < utf8.size();) {
    unsigned long cp = 0;
    int n = UTF8_getc(reinterpret_cast<const unsigned char*>(utf8.data() + i),
                      static_cast<int>(utf8.size() - i), &cp);
    if (n <= 0 || cp > 0xFFFF) Fail("BMP conversion");
    out.push_back(static_cast<char>(cp >> 8));
    out.push_back(static_cast<char>(cp & 0xFF));
    i += static_cast<size_t>(n);
  }
  return out;
}

std::string OcspRequestWithExtension(const std::string& der, const char* oid,
                                     bool critical, bool single,
                                     const std::string& value) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePtr<OCSP_REQUEST> req(
      d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 1));
  UniquePtr<ASN1_OCTET_STRING> octets(ASN1_OCTET_STRING_new());
  if (!req || !obj || !octets) Fail("OcspRequestWithExtension");
  ASN1_OCTET_STRING_set(octets.get(),
                        reinterpret_cast<const unsigned char*>(value.data()),
                        static_cast<int>(value.size()));
  UniquePtr<X509_EXTENSION> ext(
      X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), critical ? 1 : 0, octets.get()));
  int added =
      single ? OCSP_ONEREQ_add_ext(OCSP_request_onereq_get0(req.get(), 0), ext.get(), -1)
             : OCSP_REQUEST_add_ext(req.get(), ext.get(), -1);
  if (!ext || added != 1) Fail("OcspRequestWithExtension");
  auto out = EncodeDer(i2d_OCSP_REQUEST, req.get(), "OCSP request");
  if (!out.ok()) Fail("i2d_OCSP_REQUEST");
  return *out;
}

std::string OcspRequestWithNonce(const std::string& der, size_t size) {
  // extnValue: the DER of an OCTET STRING holding the nonce (RFC 9654 §2.1).
  std::string value = "\x04" + DerLength(size) + std::string(size, 'n');
  return OcspRequestWithExtension(der, "1.3.6.1.5.5.7.48.1.2", false, false, value);
}

}  // namespace certctl::testing
