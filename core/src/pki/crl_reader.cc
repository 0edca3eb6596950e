#include "certctl/pki/crl_reader.h"

#include <openssl/err.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/serial.h"

// The structure is walked with OpenSSL's own TLV reader (ASN1_get_object) and
// every leaf is decoded by OpenSSL's d2i functions on its slice; only the
// walking order (RFC 5280 §5.1) is written here, because OpenSSL offers no
// way to decode a CertificateList without building an X509_REVOKED per entry.

namespace certctl {
namespace {

using Bytes = const unsigned char*;

struct Tlv {
  int tag = 0;
  int xclass = 0;
  bool constructed = false;
  Bytes start = nullptr;    // first header octet
  Bytes content = nullptr;  // first content octet
  Bytes end = nullptr;      // one past the last content octet
  std::string_view whole() const {
    return {reinterpret_cast<const char*>(start), static_cast<size_t>(end - start)};
  }
  std::string_view body() const {
    return {reinterpret_cast<const char*>(content), static_cast<size_t>(end - content)};
  }
};

Status Bad(std::string_view what) {
  ERR_clear_error();
  return Status::Corruption("CRL does not parse: " + std::string(what));
}

// Reads one TLV at `p` (advancing it) that must lie within [p, end).
Result<Tlv> Read(Bytes& p, Bytes end, std::string_view what) {
  if (p >= end) return Bad(std::string(what) + " is missing");
  Tlv t;
  t.start = p;
  long len = 0;
  Bytes q = p;
  int r = ASN1_get_object(&q, &len, &t.tag, &t.xclass, end - p);
  if (r & 0x80) return Bad(std::string(what) + " is malformed or truncated");
  if (r == 0x21) return Bad(std::string(what) + " uses an indefinite length (not DER)");
  t.constructed = (r & V_ASN1_CONSTRUCTED) != 0;
  t.content = q;
  t.end = q + len;
  p = t.end;
  return t;
}

Result<Tlv> Expect(Bytes& p, Bytes end, int tag, std::string_view what) {
  ASSIGN_OR_RETURN(Tlv t, Read(p, end, what));
  if (t.xclass != V_ASN1_UNIVERSAL || t.tag != tag) {
    return Bad(std::string(what) + " has an unexpected type");
  }
  return t;
}

bool IsTime(const Tlv& t) {
  return t.xclass == V_ASN1_UNIVERSAL &&
         (t.tag == V_ASN1_UTCTIME || t.tag == V_ASN1_GENERALIZEDTIME);
}

Result<TimePoint> DecodeTime(const Tlv& t, std::string_view what) {
  Bytes p = t.start;
  UniquePtr<ASN1_STRING> time(d2i_ASN1_TIME(nullptr, &p, t.end - t.start));
  if (!time || p != t.end) return Bad(std::string(what) + " is not a valid time");
  auto out = Asn1TimeToTimePoint(time.get());
  if (!out.ok()) return Bad(std::string(what) + " is not a valid time");
  return *out;
}

Result<UniquePtr<X509_REVOKED>> DecodeEntry(const Tlv& t, int64_t index) {
  Bytes p = t.start;
  UniquePtr<X509_REVOKED> entry(d2i_X509_REVOKED(nullptr, &p, t.end - t.start));
  if (!entry || p != t.end)
    return Bad("entry " + std::to_string(index + 1) + " does not decode");
  return entry;
}

// The next optional field of the TBSCertList, if any is left.
Result<std::optional<Tlv>> NextField(Bytes& p, Bytes end) {
  if (p >= end) return std::optional<Tlv>();
  ASSIGN_OR_RETURN(Tlv t, Read(p, end, "CRL field"));
  return std::optional<Tlv>(t);
}

Result<UniquePtr<X509_NAME>> DecodeName(const Tlv& t) {
  Bytes q = t.start;
  UniquePtr<X509_NAME> name(d2i_X509_NAME(nullptr, &q, t.end - t.start));
  if (!name || q != t.end) return Bad("issuer name does not decode");
  return name;
}

// Decodes every entry once (and drops it) so a CRL that parses is one whose
// entries all decode.
Result<int64_t> CountEntries(const Tlv& list) {
  int64_t count = 0;
  for (Bytes e = list.content; e < list.end; ++count) {
    ASSIGN_OR_RETURN(Tlv entry, Read(e, list.end, "revoked certificate entry"));
    ASSIGN_OR_RETURN(auto decoded, DecodeEntry(entry, count));
  }
  return count;
}

// crlExtensions ([0] EXPLICIT Extensions): the CRL Number and the AKI keyid.
Status DecodeExtensions(const Tlv& t, std::optional<int64_t>& number,
                        std::string& keyid) {
  if (t.xclass != V_ASN1_CONTEXT_SPECIFIC || t.tag != 0 || !t.constructed) {
    return Bad("unexpected field in the TBSCertList");
  }
  Bytes x = t.content;
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(
      d2i_X509_EXTENSIONS(nullptr, &x, t.end - t.content));
  if (!exts || x != t.end) return Bad("crlExtensions do not decode");
  UniquePtr<ASN1_STRING> n(static_cast<ASN1_INTEGER*>(
      X509V3_get_d2i(exts.get(), NID_crl_number, nullptr, nullptr)));
  UniquePtr<AUTHORITY_KEYID> akid(static_cast<AUTHORITY_KEYID*>(
      X509V3_get_d2i(exts.get(), NID_authority_key_identifier, nullptr, nullptr)));
  int64_t value = 0;
  if (n && ASN1_INTEGER_get_int64(&value, n.get()) == 1) number = value;
  if (akid && akid->keyid) {
    keyid.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(akid->keyid)),
                 static_cast<size_t>(ASN1_STRING_length(akid->keyid)));
  }
  return Status::Ok();
}

}  // namespace

CrlView::CrlView(CrlView&&) noexcept = default;
CrlView& CrlView::operator=(CrlView&&) noexcept = default;
CrlView::~CrlView() = default;

Result<CrlView> CrlView::Parse(std::string_view der) {
  CrlView v;
  v.der_ = der;
  Bytes p = reinterpret_cast<Bytes>(der.data());
  Bytes end = p + der.size();
  ASSIGN_OR_RETURN(Tlv outer, Expect(p, end, V_ASN1_SEQUENCE, "CertificateList"));
  if (p != end) return Bad("trailing bytes after the CertificateList");
  p = outer.content;
  ASSIGN_OR_RETURN(Tlv tbs, Expect(p, outer.end, V_ASN1_SEQUENCE, "TBSCertList"));
  ASSIGN_OR_RETURN(Tlv alg, Expect(p, outer.end, V_ASN1_SEQUENCE, "signatureAlgorithm"));
  ASSIGN_OR_RETURN(Tlv sig, Expect(p, outer.end, V_ASN1_BIT_STRING, "signatureValue"));
  if (p != outer.end) return Bad("unexpected data after the signature");
  if (sig.end == sig.content || *sig.content != 0)
    return Bad("signatureValue has unused bits");
  v.tbs_ = tbs.whole();
  v.sig_alg_ = alg.whole();
  v.signature_ = sig.body().substr(1);

  p = tbs.content;
  ASSIGN_OR_RETURN(Tlv version,
                   Expect(p, tbs.end, V_ASN1_INTEGER, "version (only v2 CRLs)"));
  if (version.body() != std::string_view("\x01", 1)) return Bad("not a version 2 CRL");
  ASSIGN_OR_RETURN(Tlv inner_alg, Expect(p, tbs.end, V_ASN1_SEQUENCE, "signature"));
  if (inner_alg.whole() != alg.whole()) {
    return Bad("the signature algorithm inside and outside the TBSCertList differ");
  }
  ASSIGN_OR_RETURN(Tlv issuer, Expect(p, tbs.end, V_ASN1_SEQUENCE, "issuer"));
  ASSIGN_OR_RETURN(v.issuer_name_, DecodeName(issuer));
  v.issuer_ = NameToString(v.issuer_name_.get());
  ASSIGN_OR_RETURN(Tlv this_update, Read(p, tbs.end, "thisUpdate"));
  if (!IsTime(this_update)) return Bad("thisUpdate is not a time");
  ASSIGN_OR_RETURN(v.this_update_, DecodeTime(this_update, "thisUpdate"));

  // Optional, in this order: nextUpdate, revokedCertificates, crlExtensions.
  ASSIGN_OR_RETURN(auto next, NextField(p, tbs.end));
  if (next && IsTime(*next)) {
    ASSIGN_OR_RETURN(v.next_update_, DecodeTime(*next, "nextUpdate"));
    ASSIGN_OR_RETURN(next, NextField(p, tbs.end));
  }
  if (next && next->xclass == V_ASN1_UNIVERSAL && next->tag == V_ASN1_SEQUENCE) {
    v.entries_ = next->body();
    ASSIGN_OR_RETURN(v.entry_count_, CountEntries(*next));
    ASSIGN_OR_RETURN(next, NextField(p, tbs.end));
  }
  if (next) RETURN_IF_ERROR(DecodeExtensions(*next, v.crl_number_, v.authority_key_id_));
  if (p != tbs.end) return Bad("unexpected data at the end of the TBSCertList");
  ERR_clear_error();
  return v;
}

Status CrlView::VerifySignature(X509* ca_cert) const {
  if (X509_NAME_cmp(issuer_name_.get(), X509_get_subject_name(ca_cert)) != 0) {
    return Status::Corruption("CRL issuer " + issuer_ + " is not the CA " +
                              SubjectOf(ca_cert));
  }
  Bytes p = reinterpret_cast<Bytes>(sig_alg_.data());
  std::unique_ptr<X509_ALGOR, decltype(&X509_ALGOR_free)> alg(
      d2i_X509_ALGOR(nullptr, &p, static_cast<long>(sig_alg_.size())), &X509_ALGOR_free);
  int md_nid = NID_undef, pkey_nid = NID_undef;
  if (!alg || !OBJ_find_sigid_algs(OBJ_obj2nid(alg->algorithm), &md_nid, &pkey_nid)) {
    ERR_clear_error();
    return Status::Corruption("CRL signature algorithm is not supported");
  }
  EVP_PKEY* key = X509_get0_pubkey(ca_cert);  // borrowed
  if (!key || EVP_PKEY_get_base_id(key) != pkey_nid) {
    ERR_clear_error();
    return Status::Corruption("CRL signature algorithm does not fit the CA key (" +
                              std::string(OBJ_nid2sn(pkey_nid)) + ")");
  }
  const EVP_MD* md = md_nid == NID_undef ? nullptr : EVP_get_digestbynid(md_nid);
  UniquePtr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<Bytes>(signature_.data()),
                             signature_.size(), reinterpret_cast<Bytes>(tbs_.data()),
                             tbs_.size()) == 1;
  ERR_clear_error();
  if (!ok) {
    return Status::Corruption("CRL signature does not verify with the key of " +
                              SubjectOf(ca_cert));
  }
  return Status::Ok();
}

Status CrlView::ForEachEntry(const std::function<Status(const CrlEntry&)>& fn) const {
  Bytes p = reinterpret_cast<Bytes>(entries_.data());
  Bytes end = p + entries_.size();
  CrlEntry out;
  for (int64_t i = 0; p < end; ++i) {
    ASSIGN_OR_RETURN(Tlv t, Read(p, end, "revoked certificate entry"));
    ASSIGN_OR_RETURN(auto entry, DecodeEntry(t, i));
    auto serial = Serial::FromAsn1(X509_REVOKED_get0_serialNumber(entry.get()));
    if (!serial.ok())
      return Bad("entry " + std::to_string(i + 1) + ": " + serial.status().message());
    out.serial = serial->hex();
    ASSIGN_OR_RETURN(out.revoked_at,
                     Asn1TimeToTimePoint(X509_REVOKED_get0_revocationDate(entry.get())));
    UniquePtr<ASN1_STRING> reason(static_cast<ASN1_ENUMERATED*>(
        X509_REVOKED_get_ext_d2i(entry.get(), NID_crl_reason, nullptr, nullptr)));
    out.reason = reason ? static_cast<int>(ASN1_ENUMERATED_get(reason.get())) : 0;
    RETURN_IF_ERROR(fn(out));
  }
  return Status::Ok();
}

}  // namespace certctl
