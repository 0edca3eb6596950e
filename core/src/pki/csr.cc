#include "certctl/pki/csr.h"

#include <arpa/inet.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/pki/name_checks.h"

namespace certctl {
namespace {

std::string Asn1ToString(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

Status CheckRsaKey(EVP_PKEY* key) {
  int bits = EVP_PKEY_get_bits(key);
  if (bits < 2048 || bits > 8192) {
    return Status::InvalidArgument("CSR RSA key has " + std::to_string(bits) +
                                   " bits; 2048 to 8192 are accepted");
  }
  if (bits % 8 != 0) {
    return Status::InvalidArgument("CSR RSA key has " + std::to_string(bits) +
                                   " bits; the size must be a multiple of 8");
  }
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &raw) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "CSR RSA public exponent");
  }
  UniquePtr<BIGNUM> e(raw);
  UniquePtr<BIGNUM> f4(BN_new());
  if (!f4 || BN_set_word(f4.get(), RSA_F4) != 1) return OpenSslError("BN_set_word");
  // CA/Browser Forum Baseline Requirements §6.1.6: odd, 2^16+1 .. 2^256-1.
  if (!BN_is_odd(e.get()) || BN_cmp(e.get(), f4.get()) < 0 ||
      BN_num_bits(e.get()) > 256) {
    char* text = BN_bn2dec(e.get());
    std::string shown = text ? text : "?";
    OPENSSL_free(text);
    return Status::InvalidArgument("CSR RSA public exponent is " + shown.substr(0, 80) +
                                   "; it must be odd, at least 65537 and below 2^256");
  }
  return Status::Ok();
}

Status CheckEcKey(EVP_PKEY* key, const std::string& description) {
  // An explicit curve can be a named curve's twin with a different base
  // point or a weak curve altogether (CVE-2020-0601); RFC 5480 §2.1.1 asks
  // for a named curve.
  char encoding[32] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_EC_ENCODING, encoding,
                                     sizeof encoding, &len) != 1 ||
      std::string_view(encoding, len) != OSSL_PKEY_EC_ENCODING_GROUP) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "CSR EC key uses explicit curve parameters; only a named curve "
        "(P-256, P-384 or P-521) is accepted");
  }
  if (description == "ecdsa-p256" || description == "ecdsa-p384" ||
      description == "ecdsa-p521") {
    return Status::Ok();
  }
  return Status::InvalidArgument("CSR uses EC key " + description +
                                 "; P-256, P-384 and P-521 are accepted");
}

Status CheckKey(EVP_PKEY* key, std::string& description) {
  if (!key) {
    return OpenSslError(StatusCode::kInvalidArgument, "CSR has no usable public key");
  }
  description = DescribeKey(key);
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) {
    RETURN_IF_ERROR(CheckRsaKey(key));
  } else if (id == EVP_PKEY_EC) {
    RETURN_IF_ERROR(CheckEcKey(key, description));
  } else if (id != EVP_PKEY_ED25519) {
    return Status::InvalidArgument("CSR key type " + description + " is not accepted");
  }
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument,
                        "CSR public key fails OpenSSL's public key check");
  }
  return Status::Ok();
}

Status ReadName(const GENERAL_NAME* gn, Csr& out) {
  switch (gn->type) {
    case GEN_DNS: {
      std::string name = Asn1ToString(gn->d.dNSName);
      RETURN_IF_ERROR(CheckDnsName(name));
      out.dns_names.push_back(std::move(name));
      return Status::Ok();
    }
    case GEN_EMAIL: {
      std::string address = Asn1ToString(gn->d.rfc822Name);
      RETURN_IF_ERROR(CheckEmailAddress(address));
      out.email_addresses.push_back(std::move(address));
      return Status::Ok();
    }
    case GEN_IPADD: {
      const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
      int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : -1;
      char text[INET6_ADDRSTRLEN] = {};
      if (family < 0 || !inet_ntop(family, ip->data, text, sizeof text)) {
        return Status::InvalidArgument("malformed IP address of " +
                                       std::to_string(ip->length) +
                                       " octets (4 or 16 are IPv4 and IPv6)");
      }
      out.ip_addresses.emplace_back(text);
      return Status::Ok();
    }
  }
  return Status::InvalidArgument("a name type other than DNS, IP or e-mail");
}

Status ReadSubjectAltNames(X509_REQ* req, const CsrLimits& limits, Csr& out) {
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(X509_REQ_get_extensions(req));
  if (!exts) {
    // NULL is both "no extensionRequest" and "it does not parse"; the
    // attribute tells which. A request that does not parse is refused, not
    // read as asking for no names.
    if (X509_REQ_get_attr_by_NID(req, NID_ext_req, -1) < 0 &&
        X509_REQ_get_attr_by_NID(req, NID_ms_ext_req, -1) < 0) {
      ERR_clear_error();
      return Status::Ok();
    }
    return OpenSslError(StatusCode::kInvalidArgument,
                        "CSR extension request does not parse");
  }
  int idx = X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, -1);
  if (idx < 0) return Status::Ok();
  if (X509v3_get_ext_by_NID(exts.get(), NID_subject_alt_name, idx) >= 0) {
    return Status::InvalidArgument("CSR has more than one subjectAltName extension");
  }
  X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts.get(), idx);
  UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  if (!names) {
    ERR_clear_error();
    return Status::InvalidArgument("CSR subjectAltName does not parse");
  }
  int count = sk_GENERAL_NAME_num(names.get());
  if (count == 0) return Status::InvalidArgument("CSR subjectAltName is empty");
  RETURN_IF_ERROR(CheckSanCount(static_cast<size_t>(count), limits.max_sans));
  for (int i = 0; i < count; ++i) {
    RETURN_IF_ERROR(ReadName(sk_GENERAL_NAME_value(names.get(), i), out)
                        .WithContext("CSR subjectAltName"));
  }
  return Status::Ok();
}

}  // namespace

Status CheckSanCount(size_t count, int max) {
  if (count <= static_cast<size_t>(max)) return Status::Ok();
  return Status::InvalidArgument(
      "the request has " + std::to_string(count) + " subjectAltName entries; at most " +
      std::to_string(max) + " are accepted (certificate_max_sans)");
}

Result<Csr> ParseCsrPem(std::string_view pem, const CsrLimits& limits) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Csr out;
  out.request.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!out.request) return OpenSslError(StatusCode::kInvalidArgument, "parse CSR PEM");
  EVP_PKEY* key = X509_REQ_get0_pubkey(out.request.get());
  RETURN_IF_ERROR(CheckKey(key, out.key_description));
  if (X509_REQ_verify(out.request.get(), key) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "CSR signature does not verify");
  }
  auto subject = CheckSubject(X509_REQ_get_subject_name(out.request.get()));
  if (!subject.ok()) return subject.status().WithContext("CSR subject");
  out.subject_name = std::move(subject->name);
  out.common_name = std::move(subject->common_name);
  out.subject = NameToString(out.subject_name.get());
  RETURN_IF_ERROR(ReadSubjectAltNames(out.request.get(), limits, out));
  return out;
}

Result<std::string> MakeCsrPem(EVP_PKEY* key, const std::string& common_name,
                               const std::vector<std::string>& dns_names) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.data()),
          static_cast<int>(common_name.size()), -1, 0) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "CSR common name");
  }
  if (X509_REQ_set_pubkey(req.get(), key) != 1) return OpenSslError("CSR public key");
  if (!dns_names.empty()) {
    UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
    for (const auto& dns : dns_names) {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size()));
      GENERAL_NAME_set0_value(gn, GEN_DNS, s);
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
    UniquePtr<X509_EXTENSION> ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    if (!exts || !ext || !sk_X509_EXTENSION_push(exts.get(), ext.get()))
      return OpenSslError("CSR subjectAltName");
    ext.release();  // the stack owns it now
    if (X509_REQ_add_extensions(req.get(), exts.get()) != 1)
      return OpenSslError("CSR extensions");
  }
  if (X509_REQ_sign(req.get(), key, SigningDigest(key)) <= 0)
    return OpenSslError("sign CSR");
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace certctl
