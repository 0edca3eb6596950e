// OCSP requests: parsing what clients send, matching CertIDs, and building
// requests for checks.
#include <openssl/err.h>

#include "certctl/pki/ocsp.h"
#include "certctl/util/encoding.h"

namespace certctl {
namespace {

// The nonce extension's extnValue holds the DER of an OCTET STRING (RFC 6960
// §4.4.1); its content is the nonce.
Result<std::optional<std::string>> RequestNonce(OCSP_REQUEST* req) {
  int loc = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
  if (loc < 0) return std::optional<std::string>();
  if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, loc) >= 0) {
    return Status::InvalidArgument("OCSP request has more than one nonce");
  }
  X509_EXTENSION* ext = OCSP_REQUEST_get_ext(req, loc);
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(ext);
  const unsigned char* p = ASN1_STRING_get0_data(value);
  long len = ASN1_STRING_length(value);
  const unsigned char* end = p + len;
  UniquePtr<ASN1_OCTET_STRING> inner(d2i_ASN1_OCTET_STRING(nullptr, &p, len));
  if (!inner || p != end) {
    ERR_clear_error();
    return Status::InvalidArgument("OCSP request nonce is not an OCTET STRING");
  }
  size_t n = static_cast<size_t>(ASN1_STRING_length(inner.get()));
  if (n < kMinOcspNonceBytes || n > kMaxOcspNonceBytes) {
    return Status::InvalidArgument("OCSP request nonce has " + std::to_string(n) +
                                   " octets; RFC 9654 allows 1 to 128");
  }
  return std::optional<std::string>(
      std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(inner.get())), n));
}

// RFC 6960 §4.4: unrecognised extensions are ignored unless critical. The
// nonce is the only request extension certctl acts on; no singleRequest
// extension is understood.
template <typename GetCount, typename GetExt>
Status CheckCriticalExtensions(std::string_view where, GetCount count, GetExt get) {
  for (int i = 0; i < count(); ++i) {
    X509_EXTENSION* ext = get(i);
    const ASN1_OBJECT* oid = X509_EXTENSION_get_object(ext);
    bool understood = where == "request" && OBJ_obj2nid(oid) == NID_id_pkix_OCSP_Nonce;
    if (X509_EXTENSION_get_critical(ext) && !understood) {
      char text[80] = "?";
      OBJ_obj2txt(text, sizeof text, oid, 1);
      return Status::InvalidArgument("OCSP " + std::string(where) +
                                     " has a critical extension certctl does not "
                                     "understand (" +
                                     text + ")");
    }
  }
  return Status::Ok();
}

// SHA-1 (RFC 5019's CertID) and SHA-2: what relying parties send. Anything
// else (MD5, an OID naming no digest) is never matched to an issuer.
const EVP_MD* CertIdDigest(const ASN1_OBJECT* oid) {
  switch (OBJ_obj2nid(oid)) {
    case NID_sha1:
    case NID_sha224:
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      return EVP_get_digestbyobj(oid);
  }
  return nullptr;
}

Result<OcspCertId> ReadCertId(OCSP_CERTID* borrowed) {
  OcspCertId out;
  out.id.reset(OCSP_CERTID_dup(borrowed));
  if (!out.id) return OpenSslError("copy OCSP CertID");
  ASSIGN_OR_RETURN(out.der, EncodeDer(i2d_OCSP_CERTID, out.id.get(), "OCSP CertID"));
  ASN1_OBJECT* md_oid = nullptr;
  ASN1_INTEGER* serial = nullptr;
  OCSP_id_get0_info(nullptr, &md_oid, nullptr, &serial, out.id.get());
  if (md_oid && CertIdDigest(md_oid)) {
    const char* sn = OBJ_nid2sn(OBJ_obj2nid(md_oid));
    std::string name = sn ? sn : "";
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.hash_name = name;
  }
  if (serial) {
    auto parsed = Serial::FromAsn1(serial);
    if (parsed.ok()) out.serial = std::move(parsed).value();
  }
  ERR_clear_error();
  return out;
}

}  // namespace

std::string_view OcspCertStatusName(OcspCertStatus status) {
  switch (status) {
    case OcspCertStatus::kGood:
      return "good";
    case OcspCertStatus::kRevoked:
      return "revoked";
    case OcspCertStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Result<OcspRequestInfo> ParseOcspRequest(std::string_view der) {
  OcspRequestInfo out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  out.request.reset(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  if (!out.request) {
    return OpenSslError(StatusCode::kInvalidArgument, "OCSP request is not valid DER");
  }
  if (p != end) return Status::InvalidArgument("OCSP request has trailing bytes");
  int count = OCSP_request_onereq_count(out.request.get());
  if (count <= 0)
    return Status::InvalidArgument("OCSP request asks about no certificate");
  if (count > kMaxOcspRequestCertIds) {
    return Status::InvalidArgument(
        "OCSP request asks about " + std::to_string(count) + " certificates; at most " +
        std::to_string(kMaxOcspRequestCertIds) + " are answered");
  }
  OCSP_REQUEST* req = out.request.get();
  RETURN_IF_ERROR(CheckCriticalExtensions(
      "request", [&] { return OCSP_REQUEST_get_ext_count(req); },
      [&](int i) { return OCSP_REQUEST_get_ext(req, i); }));
  for (int i = 0; i < count; ++i) {
    OCSP_ONEREQ* one = OCSP_request_onereq_get0(req, i);
    RETURN_IF_ERROR(CheckCriticalExtensions(
        "CertID " + std::to_string(i + 1), [&] { return OCSP_ONEREQ_get_ext_count(one); },
        [&](int j) { return OCSP_ONEREQ_get_ext(one, j); }));
    ASSIGN_OR_RETURN(OcspCertId id, ReadCertId(OCSP_onereq_get0_id(one)));
    out.ids.push_back(std::move(id));
  }
  ASSIGN_OR_RETURN(out.nonce, RequestNonce(req));
  return out;
}

Result<std::string> DecodeOcspGetRequest(std::string_view encoded) {
  ASSIGN_OR_RETURN(std::string base64, PercentDecode(encoded));
  return Base64Decode(base64);
}

bool CertIdIssuedBy(const OcspCertId& id, X509* ca_cert) {
  ASN1_OBJECT* md_oid = nullptr;
  OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, id.id.get());
  const EVP_MD* md = md_oid ? CertIdDigest(md_oid) : nullptr;
  if (!md) return false;
  // OCSP_cert_to_id with no subject hashes the CA's name and key with `md`;
  // OCSP_id_issuer_cmp then compares algorithm and both hashes.
  UniquePtr<OCSP_CERTID> ours(OCSP_cert_to_id(md, nullptr, ca_cert));
  bool match = ours && OCSP_id_issuer_cmp(ours.get(), id.id.get()) == 0;
  ERR_clear_error();
  return match;
}

Result<std::string> MakeOcspRequestDer(X509* ca_cert, const std::vector<Serial>& serials,
                                       const EVP_MD* md,
                                       const std::optional<std::string>& nonce) {
  if (serials.empty()) return Status::InvalidArgument("an OCSP request needs a serial");
  UniquePtr<OCSP_REQUEST> req(OCSP_REQUEST_new());
  if (!req) return OpenSslError("OCSP_REQUEST_new");
  for (const Serial& s : serials) {
    ASSIGN_OR_RETURN(auto serial, s.ToAsn1());
    OCSP_CERTID* id =
        OCSP_cert_id_new(md ? md : EVP_sha1(), X509_get_subject_name(ca_cert),
                         X509_get0_pubkey_bitstr(ca_cert), serial.get());
    if (!id) return OpenSslError("build OCSP CertID");
    UniquePtr<OCSP_CERTID> owned(id);
    if (!OCSP_request_add0_id(req.get(), id)) return OpenSslError("add OCSP CertID");
    owned.release();  // the request owns it now
  }
  if (nonce) {
    std::string n = *nonce;
    if (OCSP_request_add1_nonce(req.get(), reinterpret_cast<unsigned char*>(n.data()),
                                static_cast<int>(n.size())) != 1) {
      return OpenSslError("add OCSP nonce");
    }
  }
  return EncodeDer(i2d_OCSP_REQUEST, req.get(), "OCSP request");
}

}  // namespace certctl
