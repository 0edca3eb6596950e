#include "certctl/pki/csr.h"

#include <arpa/inet.h>
#include <openssl/pem.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"

namespace certctl {
namespace {

std::string Asn1ToString(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

Status CheckKey(EVP_PKEY* key, std::string& description) {
  if (!key) return Status::InvalidArgument("CSR has no usable public key");
  description = DescribeKey(key);
  int id = EVP_PKEY_get_base_id(key);
  int bits = EVP_PKEY_get_bits(key);
  if (id == EVP_PKEY_RSA) {
    if (bits < 2048 || bits > 8192) {
      return Status::InvalidArgument("CSR RSA key has " + std::to_string(bits) +
                                     " bits; 2048 to 8192 are accepted");
    }
    return Status::Ok();
  }
  if (id == EVP_PKEY_EC) {
    if (description == "ecdsa-p256" || description == "ecdsa-p384" ||
        description == "ecdsa-p521") {
      return Status::Ok();
    }
    return Status::InvalidArgument("CSR uses EC key " + description +
                                   "; P-256, P-384 and P-521 are accepted");
  }
  if (id == EVP_PKEY_ED25519) return Status::Ok();
  return Status::InvalidArgument("CSR key type " + description + " is not accepted");
}

Status ReadSubjectAltNames(X509_REQ* req, Csr& out) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (!exts) return Status::Ok();
  struct Free {
    STACK_OF(X509_EXTENSION) * p;
    ~Free() { sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free); }
  } free_exts{exts};
  int idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
  if (idx < 0) return Status::Ok();
  X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, idx);
  UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(ext)));
  if (!names) return Status::InvalidArgument("CSR subjectAltName does not parse");
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    switch (gn->type) {
      case GEN_DNS:
        out.dns_names.push_back(Asn1ToString(gn->d.dNSName));
        break;
      case GEN_EMAIL:
        out.email_addresses.push_back(Asn1ToString(gn->d.rfc822Name));
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        int family = ip->length == 4 ? AF_INET : ip->length == 16 ? AF_INET6 : -1;
        char text[INET6_ADDRSTRLEN] = {};
        if (family < 0 || !inet_ntop(family, ip->data, text, sizeof text)) {
          return Status::InvalidArgument("CSR has a malformed IP address SAN");
        }
        out.ip_addresses.emplace_back(text);
        break;
      }
      default:
        return Status::InvalidArgument(
            "CSR subjectAltName has a name type other than DNS, "
            "IP or e-mail");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Csr> ParseCsrPem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Csr out;
  out.request.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!out.request) return OpenSslError(StatusCode::kInvalidArgument, "parse CSR PEM");
  EVP_PKEY* key = X509_REQ_get0_pubkey(out.request.get());
  RETURN_IF_ERROR(CheckKey(key, out.key_description));
  if (X509_REQ_verify(out.request.get(), key) != 1) {
    return OpenSslError(StatusCode::kInvalidArgument, "CSR signature does not verify");
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(out.request.get());
  out.subject = NameToString(subject);
  int cn = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (cn >= 0) {
    out.common_name =
        Asn1ToString(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, cn)));
  }
  RETURN_IF_ERROR(ReadSubjectAltNames(out.request.get(), out));
  return out;
}

Result<std::string> MakeCsrPem(EVP_PKEY* key, const std::string& common_name,
                               const std::vector<std::string>& dns_names) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1) {
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
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get());
    sk_X509_EXTENSION_push(exts, ext);
    int ok = X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (ok != 1) return OpenSslError("CSR extensions");
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
