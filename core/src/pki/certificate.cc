#include "certctl/pki/certificate.h"

#include <arpa/inet.h>
#include <openssl/pem.h>

#include "certctl/pki/keys.h"
#include "certctl/pki/name_checks.h"
#include "certctl/util/encoding.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

namespace certctl {
namespace {

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  UniquePtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext)
    return OpenSslError("build extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  if (X509_add_ext(cert, ext.get(), -1) != 1) return OpenSslError("add extension");
  return Status::Ok();
}

// URLs come from configuration and end up inside OpenSSL's extension config
// syntax, where ',' separates values; refuse anything that could smuggle in
// another value.
Status CheckUrl(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("URL must start with http:// or https://: " + url);
  }
  for (char c : url) {
    if (c == ',' || c <= ' ' || c == 0x7f) {
      return Status::InvalidArgument("URL contains a character not allowed here: " + url);
    }
  }
  return Status::Ok();
}

Status AddSubjectAltNames(X509* cert, const IssueRequest& r) {
  if (r.dns_names.empty() && r.ip_addresses.empty() && r.email_addresses.empty()) {
    return Status::Ok();
  }
  // RFC 5280 §4.2.1.6: with an empty subject the names are all in this
  // extension, and it MUST be critical.
  int critical = X509_NAME_entry_count(X509_get_subject_name(cert)) == 0 ? 1 : 0;
  // Built from GENERAL_NAME objects rather than config text so that a name from
  // a CSR can never be parsed as something else.
  UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  auto push = [&](int type, ASN1_STRING* value) -> Status {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (!gn) {
      ASN1_STRING_free(value);
      return OpenSslError("GENERAL_NAME_new");
    }
    GENERAL_NAME_set0_value(gn, type, value);
    sk_GENERAL_NAME_push(names.get(), gn);
    return Status::Ok();
  };
  for (const auto& dns : r.dns_names) {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size()));
    RETURN_IF_ERROR(push(GEN_DNS, s));
  }
  for (const auto& email : r.email_addresses) {
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    ASN1_STRING_set(s, email.data(), static_cast<int>(email.size()));
    RETURN_IF_ERROR(push(GEN_EMAIL, s));
  }
  for (const auto& ip : r.ip_addresses) {
    UniquePtr<ASN1_OCTET_STRING> s(a2i_IPADDRESS(ip.c_str()));
    if (!s) return Status::InvalidArgument("invalid IP address in subjectAltName: " + ip);
    RETURN_IF_ERROR(push(GEN_IPADD, s.release()));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), critical,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("add subjectAltName");
  }
  return Status::Ok();
}

Status AddAuthorityInfoAccess(X509* cert, X509V3_CTX* ctx, const IssueRequest& r) {
  std::string value;
  if (!r.ocsp_url.empty()) {
    RETURN_IF_ERROR(CheckUrl(r.ocsp_url));
    value = "OCSP;URI:" + r.ocsp_url;
  }
  if (!r.ca_issuers_url.empty()) {
    RETURN_IF_ERROR(CheckUrl(r.ca_issuers_url));
    value +=
        (value.empty() ? "" : ",") + std::string("caIssuers;URI:") + r.ca_issuers_url;
  }
  if (value.empty()) return Status::Ok();
  return AddExtension(cert, ctx, NID_info_access, value);
}

Status SetValidity(X509* cert, TimePoint not_before, TimePoint not_after) {
  if (not_after <= not_before)
    return Status::InvalidArgument("notAfter must be after notBefore");
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), ToUnixSeconds(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), ToUnixSeconds(not_after))) {
    return OpenSslError("set validity");
  }
  return Status::Ok();
}

Status SetSubject(X509* cert, const IssueRequest& r) {
  if (r.subject) {
    if (X509_set_subject_name(cert, r.subject) != 1) return OpenSslError("set subject");
    return Status::Ok();
  }
  if (r.common_name.empty())
    return Status::InvalidArgument("certificate needs a subject");
  UniquePtr<X509_NAME> name(X509_NAME_new());
  auto add = [&](const char* field, const std::string& value) -> Status {
    if (value.empty()) return Status::Ok();
    RETURN_IF_ERROR(CheckText(value, std::string("subject ") + field).status());
    if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return OpenSslError(StatusCode::kInvalidArgument, std::string("subject ") + field);
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(add("O", r.organization));
  RETURN_IF_ERROR(add("CN", r.common_name));
  if (X509_set_subject_name(cert, name.get()) != 1) return OpenSslError("set subject");
  return Status::Ok();
}

Status AddExtensions(X509* cert, X509* issuer, const IssueRequest& r) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::string bc = r.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE";
  if (r.is_ca && r.path_length) bc += ",pathlen:" + std::to_string(*r.path_length);
  RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_basic_constraints, bc));
  if (!r.key_usage.empty()) {
    RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_key_usage, "critical," + r.key_usage));
  }
  if (!r.extended_key_usage.empty()) {
    RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_ext_key_usage, r.extended_key_usage));
  }
  RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != cert) {
    RETURN_IF_ERROR(
        AddExtension(cert, &ctx, NID_authority_key_identifier, "keyid:always"));
  }
  RETURN_IF_ERROR(AddSubjectAltNames(cert, r));
  if (!r.crl_distribution_url.empty()) {
    RETURN_IF_ERROR(CheckUrl(r.crl_distribution_url));
    RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_crl_distribution_points,
                                 "URI:" + r.crl_distribution_url));
  }
  RETURN_IF_ERROR(AddAuthorityInfoAccess(cert, &ctx, r));
  if (r.ocsp_nocheck) {
    RETURN_IF_ERROR(AddExtension(cert, &ctx, NID_id_pkix_OCSP_noCheck, "ignored"));
  }
  return Status::Ok();
}

}  // namespace

Result<UniquePtr<X509>> ParseCertificatePem(std::string_view pem) {
  UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return OpenSslError(StatusCode::kInvalidArgument, "parse certificate PEM");
  return cert;
}

Result<UniquePtr<X509>> ParseCertificateDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return OpenSslError(StatusCode::kInvalidArgument, "parse certificate DER");
  return cert;
}

Result<UniquePtr<X509>> LoadCertificateFile(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto cert = ParseCertificatePem(pem);
  if (!cert.ok()) return cert.status().WithContext(path.string());
  return cert;
}

Result<std::vector<UniquePtr<X509>>> ParseCertificateBundlePem(std::string_view pem) {
  std::vector<UniquePtr<X509>> out;
  std::string_view rest = pem;
  static constexpr std::string_view kBegin = "-----BEGIN ";
  for (;;) {
    size_t start = rest.find(kBegin);
    std::string_view before =
        rest.substr(0, start == std::string_view::npos ? rest.size() : start);
    if (before.find_first_not_of(" \t\r\n") != std::string_view::npos) {
      return Status::InvalidArgument(
          "bundle has text that is not PEM after certificate " +
          std::to_string(out.size()));
    }
    if (start == std::string_view::npos) break;
    rest = rest.substr(start);
    size_t label_end = rest.find("-----", kBegin.size());
    std::string_view label = rest.substr(kBegin.size(), label_end - kBegin.size());
    if (label != "CERTIFICATE" && label != "TRUSTED CERTIFICATE") {
      return Status::InvalidArgument("bundle entry " + std::to_string(out.size() + 1) +
                                     " is a \"" + std::string(label) +
                                     "\", not a certificate");
    }
    std::string end_marker = "-----END " + std::string(label) + "-----";
    size_t end = rest.find(end_marker);
    if (end == std::string_view::npos) {
      return Status::InvalidArgument("bundle entry " + std::to_string(out.size() + 1) +
                                     " is truncated (no END line)");
    }
    std::string_view block = rest.substr(0, end + end_marker.size());
    auto cert = ParseCertificatePem(block);
    if (!cert.ok()) {
      return cert.status().WithContext("bundle entry " + std::to_string(out.size() + 1));
    }
    out.push_back(std::move(cert).value());
    rest = rest.substr(block.size());
  }
  if (out.empty()) return Status::InvalidArgument("bundle contains no certificates");
  return out;
}

std::string CertificateToPem(X509* cert) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return BioToString(bio.get());
}

std::string CertificateToDer(X509* cert) {
  auto der = EncodeDer(i2d_X509, cert, "certificate");
  return der.ok() ? std::move(der).value() : std::string();
}

std::string NameToString(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return BioToString(bio.get());
}

std::string SubjectOf(X509* cert) { return NameToString(X509_get_subject_name(cert)); }
std::string IssuerOf(X509* cert) { return NameToString(X509_get_issuer_name(cert)); }

Result<TimePoint> Asn1TimeToTimePoint(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return Status::InvalidArgument("invalid ASN.1 time");
  }
  return FromUnixSeconds(static_cast<int64_t>(timegm(&tm)));
}

TimePoint NotBefore(X509* cert) {
  auto t = Asn1TimeToTimePoint(X509_get0_notBefore(cert));
  return t.ok() ? *t : TimePoint{};
}

TimePoint NotAfter(X509* cert) {
  auto t = Asn1TimeToTimePoint(X509_get0_notAfter(cert));
  return t.ok() ? *t : TimePoint{};
}

std::string FingerprintSha256(X509* cert) { return Sha256Hex(CertificateToDer(cert)); }

std::string SubjectKeyId(X509* cert) {
  const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(cert);
  if (!skid) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(skid)),
                     static_cast<size_t>(ASN1_STRING_length(skid)));
}

Result<UniquePtr<X509>> IssueCertificate(const IssueRequest& r,
                                         const Serial& serial_number, X509* issuer_cert,
                                         EVP_PKEY* issuer_key) {
  if (!r.public_key || !issuer_key) return Status::InvalidArgument("missing key");
  UniquePtr<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslError("X509_new");
  ASSIGN_OR_RETURN(auto serial, serial_number.ToAsn1());
  if (X509_set_serialNumber(cert.get(), serial.get()) != 1)
    return OpenSslError("set serial");
  RETURN_IF_ERROR(SetSubject(cert.get(), r));
  X509* issuer = issuer_cert ? issuer_cert : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("set issuer");
  }
  RETURN_IF_ERROR(SetValidity(cert.get(), r.not_before, r.not_after));
  if (X509_set_pubkey(cert.get(), r.public_key) != 1)
    return OpenSslError("set public key");
  RETURN_IF_ERROR(AddExtensions(cert.get(), issuer, r));
  if (X509_sign(cert.get(), issuer_key, SigningDigest(issuer_key)) <= 0) {
    return OpenSslError("sign certificate");
  }
  return cert;
}

bool SignedBy(X509* cert, X509* issuer) {
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  return key && X509_verify(cert, key) == 1;
}

}  // namespace certctl
