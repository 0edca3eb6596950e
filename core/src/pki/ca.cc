#include "certctl/pki/ca.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <utility>

#include "certctl/pki/certificate.h"
#include "certctl/pki/name_checks.h"
#include "certctl/pki/serial.h"
#include "certctl/util/files.h"
#include "certctl/util/time_format.h"

namespace certctl {

Status ValidateCa(X509* cert, EVP_PKEY* key, TimePoint now) {
  if (!cert) return Status::FailedPrecondition("no CA certificate");
  std::string who = "CA certificate \"" + SubjectOf(cert) + "\"";
  uint32_t flags = X509_get_extension_flags(cert);
  if (flags & EXFLAG_INVALID) {
    return Status::FailedPrecondition(who + " has invalid extensions");
  }
  if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA)) {
    return Status::FailedPrecondition(
        who + " is not a CA: basicConstraints CA:TRUE is missing");
  }
  if (!(flags & EXFLAG_KUSAGE)) {
    return Status::FailedPrecondition(who +
                                      " has no keyUsage extension; it needs keyCertSign "
                                      "and cRLSign");
  }
  uint32_t ku = X509_get_key_usage(cert);
  if (!(ku & KU_KEY_CERT_SIGN)) {
    return Status::FailedPrecondition(who + " keyUsage lacks keyCertSign");
  }
  if (!(ku & KU_CRL_SIGN)) {
    return Status::FailedPrecondition(who + " keyUsage lacks cRLSign");
  }
  if (!key || X509_check_private_key(cert, key) != 1) {
    ERR_clear_error();
    return Status::FailedPrecondition("the CA private key does not match " + who);
  }
  TimePoint not_before = NotBefore(cert), not_after = NotAfter(cert);
  if (now < not_before) {
    return Status::FailedPrecondition(who + " is not yet valid (notBefore " +
                                      FormatRfc3339(not_before) + ")");
  }
  if (now > not_after) {
    return Status::FailedPrecondition(who + " has expired (notAfter " +
                                      FormatRfc3339(not_after) + ")");
  }
  return Status::Ok();
}

Result<CaMaterial> LoadCa(const std::filesystem::path& cert_path,
                          const std::filesystem::path& key_path, TimePoint now) {
  CaMaterial ca;
  ASSIGN_OR_RETURN(ca.cert, LoadCertificateFile(cert_path));
  ASSIGN_OR_RETURN(ca.key, LoadPrivateKeyFile(key_path));
  Status valid = ValidateCa(ca.cert.get(), ca.key.get(), now);
  if (!valid.ok()) {
    return valid.WithContext("refusing CA " + cert_path.string() + " / " +
                             key_path.string());
  }
  return ca;
}

Result<CaMaterial> CreateSelfSignedCa(const NewCaOptions& options, TimePoint now) {
  CaMaterial ca;
  ASSIGN_OR_RETURN(ca.key, GenerateKey(options.algorithm));
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  IssueRequest r;
  r.common_name = options.common_name;
  r.organization = options.organization;
  r.public_key = ca.key.get();
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = now + options.validity;
  r.is_ca = true;
  r.key_usage = "keyCertSign,cRLSign,digitalSignature";
  ASSIGN_OR_RETURN(ca.cert, IssueCertificate(r, serial, nullptr, ca.key.get()));
  return ca;
}

namespace {

// The attribute types ParseDistinguishedName accepts (those CheckSubject
// accepts in a CSR).
int NidForType(std::string_view type) {
  static const std::pair<const char*, int> kTypes[] = {{"c", NID_countryName},
                                                       {"st", NID_stateOrProvinceName},
                                                       {"l", NID_localityName},
                                                       {"o", NID_organizationName},
                                                       {"ou", NID_organizationalUnitName},
                                                       {"cn", NID_commonName},
                                                       {"serialnumber", NID_serialNumber},
                                                       {"dc", NID_domainComponent}};
  std::string lower;
  for (char c : type)
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [name, nid] : kTypes) {
    if (lower == name) return nid;
  }
  return NID_undef;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// One "type=value" of the text from `pos`; leaves `pos` after the ',' that
// ends it (or at the end).
Result<std::pair<int, std::string>> NextAttribute(std::string_view text, size_t& pos) {
  while (pos < text.size() && text[pos] == ' ') ++pos;
  size_t eq = text.find('=', pos);
  if (eq == std::string_view::npos) {
    return Status::InvalidArgument("subject: \"" + std::string(text.substr(pos)) +
                                   "\" is not type=value");
  }
  std::string_view type = text.substr(pos, eq - pos);
  int nid = NidForType(type);
  if (nid == NID_undef) {
    return Status::InvalidArgument(
        "subject: attribute type \"" + std::string(type) +
        "\" is not accepted (C, ST, L, O, OU, CN, serialNumber, DC)");
  }
  std::string value;
  for (pos = eq + 1; pos < text.size() && text[pos] != ','; ++pos) {
    char c = text[pos];
    if (c == '+') {
      return Status::InvalidArgument("subject: multi-valued RDNs ('+') are not accepted");
    }
    if (c != '\\') {
      value += c;
      continue;
    }
    if (pos + 1 >= text.size()) {
      return Status::InvalidArgument("subject: a backslash ends the text");
    }
    int hi = HexDigit(text[pos + 1]);
    int lo = pos + 2 < text.size() ? HexDigit(text[pos + 2]) : -1;
    if (hi >= 0 && lo >= 0) {
      value += static_cast<char>(hi * 16 + lo);
      pos += 2;
    } else {
      value += text[++pos];
    }
  }
  if (pos < text.size()) ++pos;  // the ','
  RETURN_IF_ERROR(CheckSubjectValue(nid, value));
  return std::make_pair(nid, std::move(value));
}

}  // namespace

// Hand-written: OpenSSL has no public parser for RFC 4514 text (its
// `-subj` parser, in the openssl command's sources, takes "/CN=x/O=y" and is
// not part of libcrypto), and operators copy subjects from what certctl and
// `openssl x509 -nameopt RFC2253` print.
Result<UniquePtr<X509_NAME>> ParseDistinguishedName(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("subject: empty");
  std::vector<std::pair<int, std::string>> rdns;
  for (size_t pos = 0; pos < text.size();) {
    ASSIGN_OR_RETURN(auto attribute, NextAttribute(text, pos));
    rdns.push_back(std::move(attribute));
  }
  UniquePtr<X509_NAME> name(X509_NAME_new());
  if (!name) return OpenSslError("X509_NAME_new");
  // RFC 4514 lists the most specific RDN first; the ASN.1 order is the reverse.
  for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
    const auto& [nid, value] = *it;
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return OpenSslError(StatusCode::kInvalidArgument,
                          std::string("subject ") + OBJ_nid2sn(nid));
    }
  }
  return name;
}

Result<UniquePtr<X509>> SelfSignCaCertificate(EVP_PKEY* key, const X509_NAME* subject,
                                              TimePoint now,
                                              std::chrono::seconds validity) {
  ASSIGN_OR_RETURN(Serial serial, Serial::Random());
  IssueRequest r;
  r.subject = subject;
  r.public_key = key;
  r.not_before = now - std::chrono::minutes(1);
  r.not_after = now + validity;
  r.is_ca = true;
  r.key_usage = "keyCertSign,cRLSign";
  return IssueCertificate(r, serial, nullptr, key);
}

Result<std::string> MakeCaCsrPem(EVP_PKEY* key, const X509_NAME* subject) {
  UniquePtr<X509_REQ> req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_REQ_set_subject_name(req.get(), subject) != 1 ||
      X509_REQ_set_pubkey(req.get(), key) != 1) {
    return OpenSslError("CA CSR");
  }
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  for (auto [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
                            std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, nid, value);
    if (!ext) {
      sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
      return OpenSslError("CA CSR extension");
    }
    sk_X509_EXTENSION_push(exts, ext);
  }
  int added = X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  if (added != 1) return OpenSslError("CA CSR extensions");
  if (X509_REQ_sign(req.get(), key, SigningDigest(key)) <= 0) {
    return OpenSslError("sign CA CSR");
  }
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return OpenSslError("write CA CSR");
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Status VerifyChain(X509* cert, const std::vector<X509*>& issuers, TimePoint now) {
  UniquePtr<X509_STORE> store(X509_STORE_new());
  // The stack borrows the certificates: freed with sk_X509_free, not pop_free.
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
  UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return OpenSslError("X509_STORE");
  bool any_root = false;
  for (X509* c : issuers) any_root |= X509_self_signed(c, 0) == 1;
  for (X509* c : issuers) {
    bool trusted = !any_root || X509_self_signed(c, 0) == 1;
    if (trusted ? X509_STORE_add_cert(store.get(), c) != 1
                : sk_X509_push(untrusted.get(), c) <= 0) {
      return OpenSslError("X509_STORE");
    }
  }
  if (issuers.empty() && X509_STORE_add_cert(store.get(), cert) != 1) {
    return OpenSslError("X509_STORE");
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert, untrusted.get()) != 1) {
    return OpenSslError("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(ToUnixSeconds(now)));
  if (!any_root) X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (ok != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    return Status::InvalidArgument(
        "certificate \"" + SubjectOf(cert) +
        "\" does not verify: " + X509_verify_cert_error_string(err));
  }
  return Status::Ok();
}

Status WriteCaFiles(const CaMaterial& ca, const std::filesystem::path& cert_path,
                    const std::filesystem::path& key_path, bool allow_overwrite) {
  WriteOptions key_options;
  key_options.allow_overwrite = allow_overwrite;
  RETURN_IF_ERROR(WritePrivateKeyFile(key_path, ca.key.get(), key_options));
  WriteOptions cert_options;
  cert_options.mode = 0644;
  cert_options.allow_overwrite = allow_overwrite;
  return WriteFileAtomic(cert_path, CertificateToPem(ca.cert.get()), cert_options);
}

}  // namespace certctl
