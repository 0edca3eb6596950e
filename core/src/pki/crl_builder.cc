#include "certctl/pki/crl_builder.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include <array>
#include <climits>
#include <cstring>

#include "certctl/pki/certificate.h"
#include "certctl/pki/keys.h"
#include "certctl/util/time_format.h"

// Why not X509_CRL: OpenSSL's CRL object keeps one heap-allocated
// X509_REVOKED (with its own ASN1_INTEGER, ASN1_TIME and extension stack) per
// entry plus a STACK of them, sorts them, and re-encodes the whole structure
// on i2d: for 1M revocations that is several hundred megabytes and at least
// two full copies of the CRL. OpenSSL has no streaming DER encoder (BoringSSL's
// CBB is not available), so this file writes the few structural headers with
// ASN1_put_object/ASN1_object_size, has OpenSSL encode every leaf (name, times,
// extensions, algorithm identifier), appends each entry to one buffer as it
// arrives, and signs the finished TBSCertList in place with EVP_DigestSign.
//
// Buffer layout while entries arrive:
//   [headroom: room for the outer and TBS headers and the fixed TBS prefix]
//   [entry][entry]...
// Finish() writes the headers and prefix backwards into the headroom, so the
// TBSCertList is contiguous without moving the entries, appends the CRL
// extensions, signature algorithm and signature, and drops the unused part of
// the headroom.

namespace certctl {
namespace {

constexpr int kMaxHeader = 8;           // tag + length octets of one TLV, generously
constexpr int64_t kBytesPerEntry = 60;  // 20-octet serial, UTCTime, reasonCode

// Appends a tag and length header for `length` content octets.
void AppendHeader(std::string& out, int constructed, int length, int tag,
                  int xclass = V_ASN1_UNIVERSAL) {
  unsigned char header[kMaxHeader];
  unsigned char* p = header;
  ASN1_put_object(&p, constructed, length, tag, xclass);
  out.append(reinterpret_cast<const char*>(header), static_cast<size_t>(p - header));
}

int HeaderSize(int constructed, int length, int tag) {
  return ASN1_object_size(constructed, length, tag) - length;
}

// RFC 5280 §5.1.2.4: UTCTime through 2049, GeneralizedTime from 2050;
// ASN1_TIME_set makes exactly that choice.
Status AppendTime(std::string& out, ASN1_TIME* scratch, TimePoint t) {
  if (!ASN1_TIME_set(scratch, static_cast<time_t>(ToUnixSeconds(t)))) {
    return OpenSslError("encode CRL time");
  }
  unsigned char der[32];
  unsigned char* p = der;
  int len = i2d_ASN1_TIME(scratch, nullptr);
  if (len <= 0 || len > static_cast<int>(sizeof der) ||
      i2d_ASN1_TIME(scratch, &p) != len) {
    return OpenSslError("encode CRL time");
  }
  out.append(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  return Status::Ok();
}

// DER of a SEQUENCE OF Extension holding the given extensions (taken over).
Result<std::string> ExtensionsDer(std::initializer_list<X509_EXTENSION*> list) {
  UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  bool ok = exts != nullptr;
  for (X509_EXTENSION* e : list) {
    UniquePtr<X509_EXTENSION> ext(e);
    if (ok && ext && sk_X509_EXTENSION_push(exts.get(), ext.get())) {
      ext.release();  // the stack owns it now
    } else {
      ok = false;
    }
  }
  if (!ok) return OpenSslError("build CRL extensions");
  return EncodeDer(i2d_X509_EXTENSIONS, exts.get(), "CRL extensions");
}

bool IsCanonicalSerial(std::string_view s) {
  if (s.empty() || s.size() > 40 || s[0] == '0') return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

struct CrlBuilder::Prepared {
  UniquePtr<EVP_MD_CTX> sign_ctx;
  EVP_PKEY* key = nullptr;
  std::string sig_alg;     // AlgorithmIdentifier, used in the TBS and outside it
  std::string prefix;      // version, signature, issuer, thisUpdate, nextUpdate
  std::string extensions;  // [0] EXPLICIT Extensions
  std::array<std::string, 11> reason_exts;  // crlEntryExtensions per reason code
  UniquePtr<ASN1_STRING> time_scratch{ASN1_TIME_new()};
};

Result<std::string> CrlAuthorityKeyId(X509* ca_cert) {
  std::string skid = SubjectKeyId(ca_cert);
  if (!skid.empty()) return skid;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(ca_cert, EVP_sha1(), md, &len) != 1) {
    return OpenSslError("hash the CA public key");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

namespace {

// The signing context and the AlgorithmIdentifier the provider will sign
// with (so RSA gets its NULL parameters and ECDSA none, exactly as OpenSSL
// writes them in certificates).
Status PrepareSigner(EVP_PKEY* key, UniquePtr<EVP_MD_CTX>& ctx, std::string& sig_alg) {
  ctx.reset(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), &pctx, SigningDigest(key), nullptr, key) != 1) {
    return OpenSslError("initialise CRL signing with a " + DescribeKey(key) + " key");
  }
  unsigned char aid[128];
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(
                             OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof aid),
                         OSSL_PARAM_construct_end()};
  if (EVP_PKEY_CTX_get_params(pctx, params) != 1 || params[0].return_size == 0 ||
      params[0].return_size > sizeof aid) {
    return OpenSslError("signature algorithm identifier for a " + DescribeKey(key) +
                        " key");
  }
  sig_alg.assign(reinterpret_cast<const char*>(aid), params[0].return_size);
  return Status::Ok();
}

Result<std::string> CrlExtensions(X509* ca_cert, int64_t crl_number) {
  ASSIGN_OR_RETURN(std::string keyid, CrlAuthorityKeyId(ca_cert));
  UniquePtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  if (!akid) return OpenSslError("build Authority Key Identifier");
  akid->keyid = ASN1_OCTET_STRING_new();
  X509_EXTENSION* aki_ext = nullptr;
  if (akid->keyid &&
      ASN1_OCTET_STRING_set(akid->keyid,
                            reinterpret_cast<const unsigned char*>(keyid.data()),
                            static_cast<int>(keyid.size()))) {
    aki_ext = X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get());
  }
  UniquePtr<ASN1_STRING> number(ASN1_INTEGER_new());
  X509_EXTENSION* number_ext = nullptr;
  if (number && ASN1_INTEGER_set_int64(number.get(), crl_number)) {
    number_ext = X509V3_EXT_i2d(NID_crl_number, 0, number.get());
  }
  ASSIGN_OR_RETURN(std::string exts, ExtensionsDer({aki_ext, number_ext}));
  std::string out;
  AppendHeader(out, 1, static_cast<int>(exts.size()), 0, V_ASN1_CONTEXT_SPECIFIC);
  return out + exts;
}

Status ReasonExtensions(std::array<std::string, 11>& out) {
  for (int code = 1; code <= 10; ++code) {
    if (code == 7) continue;  // not a CRLReason
    UniquePtr<ASN1_STRING> value(ASN1_ENUMERATED_new());
    if (!value || !ASN1_ENUMERATED_set(value.get(), code))
      return OpenSslError("reason code");
    ASSIGN_OR_RETURN(out[code],
                     ExtensionsDer({X509V3_EXT_i2d(NID_crl_reason, 0, value.get())}));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<CrlBuilder>> CrlBuilder::Start(const CrlParams& params,
                                                      int64_t expected_entries) {
  if (!params.ca_cert || !params.ca_key)
    return Status::InvalidArgument("CRL needs a CA and key");
  if (params.crl_number < 1)
    return Status::InvalidArgument("CRL number must be at least 1");
  if (params.next_update <= params.this_update) {
    return Status::InvalidArgument("CRL nextUpdate must be after thisUpdate");
  }
  if (X509_check_private_key(params.ca_cert, params.ca_key) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "the CRL signing key does not match the CA certificate");
  }
  auto prep = std::make_unique<Prepared>();
  prep->key = params.ca_key;
  if (!prep->time_scratch) return OpenSslError("ASN1_TIME_new");
  RETURN_IF_ERROR(PrepareSigner(params.ca_key, prep->sign_ctx, prep->sig_alg));
  ASSIGN_OR_RETURN(prep->extensions, CrlExtensions(params.ca_cert, params.crl_number));
  RETURN_IF_ERROR(ReasonExtensions(prep->reason_exts));

  UniquePtr<ASN1_STRING> version(ASN1_INTEGER_new());
  if (!version || !ASN1_INTEGER_set(version.get(), 1)) return OpenSslError("CRL version");
  ASSIGN_OR_RETURN(prep->prefix,
                   EncodeDer(i2d_ASN1_INTEGER, version.get(), "CRL version"));
  prep->prefix += prep->sig_alg;
  ASSIGN_OR_RETURN(
      std::string issuer,
      EncodeDer(i2d_X509_NAME, X509_get_subject_name(params.ca_cert), "CRL issuer name"));
  prep->prefix += issuer;
  RETURN_IF_ERROR(AppendTime(prep->prefix, prep->time_scratch.get(), params.this_update));
  RETURN_IF_ERROR(AppendTime(prep->prefix, prep->time_scratch.get(), params.next_update));

  std::unique_ptr<CrlBuilder> b(new CrlBuilder());
  b->headroom_ = prep->prefix.size() + 3 * kMaxHeader;
  int64_t expected = std::max<int64_t>(expected_entries, 0);
  b->buf_.reserve(b->headroom_ + static_cast<size_t>(expected * kBytesPerEntry) +
                  prep->extensions.size() + prep->sig_alg.size() + 2 * kMaxHeader +
                  static_cast<size_t>(EVP_PKEY_get_size(params.ca_key)));
  b->buf_.assign(b->headroom_, '\0');
  b->prepared_ = std::move(prep);
  return b;
}

CrlBuilder::~CrlBuilder() = default;

Status CrlBuilder::Add(std::string_view serial, TimePoint revoked_at, int reason) {
  if (finished_) return Status::FailedPrecondition("CRL already finished");
  if (!IsCanonicalSerial(serial)) {
    return Status::InvalidArgument(
        "CRL entry serial \"" + std::string(serial) +
        "\" is not in canonical form (lowercase hex, no leading "
        "zeros, at most 20 octets)");
  }
  if (reason < 0 || reason > 10 || reason == 7) {
    return Status::InvalidArgument("CRL entry " + std::string(serial) + ": reason code " +
                                   std::to_string(reason) +
                                   " is not an RFC 5280 CRLReason");
  }
  // The serial is already checked to be canonical hex, so decoding it here
  // (into a fixed buffer, one sign octet of room) avoids two allocations per
  // entry that HexDecode and a padded copy would cost on a 1M-entry CRL.
  unsigned char octets[21];
  size_t n = 0;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  size_t i = 0;
  octets[n++] = 0;  // sign octet, dropped below unless the top bit is set
  if (serial.size() % 2) octets[n++] = static_cast<unsigned char>(nibble(serial[i++]));
  for (; i < serial.size(); i += 2) {
    octets[n++] =
        static_cast<unsigned char>(nibble(serial[i]) << 4 | nibble(serial[i + 1]));
  }
  std::string_view bytes(reinterpret_cast<const char*>(octets), n);
  if (!(octets[1] & 0x80)) bytes.remove_prefix(1);  // positive INTEGER, minimal form

  std::string time;
  RETURN_IF_ERROR(AppendTime(time, prepared_->time_scratch.get(), revoked_at));
  // removeFromCRL un-revokes (RFC 5280 §5.3.1); listed here, it is revoked.
  if (reason == CRL_REASON_REMOVE_FROM_CRL) reason = 0;
  const std::string& ext = prepared_->reason_exts[static_cast<size_t>(reason)];
  int integer_len = ASN1_object_size(0, static_cast<int>(bytes.size()), V_ASN1_INTEGER);
  int content = integer_len + static_cast<int>(time.size() + ext.size());
  AppendHeader(buf_, 1, content, V_ASN1_SEQUENCE);
  AppendHeader(buf_, 0, static_cast<int>(bytes.size()), V_ASN1_INTEGER);
  buf_ += bytes;
  buf_ += time;
  buf_ += ext;
  ++count_;
  return Status::Ok();
}

Result<std::string> CrlBuilder::Finish() {
  if (finished_) return Status::FailedPrecondition("CRL already finished");
  finished_ = true;
  Prepared& prep = *prepared_;
  size_t entries = buf_.size() - headroom_;
  if (entries > static_cast<size_t>(INT_MAX / 2)) {
    return Status::FailedPrecondition("CRL too large to encode (" +
                                      std::to_string(entries) + " bytes of entries)");
  }
  int entries_len = static_cast<int>(entries);
  // RFC 5280 §5.1.2.6: with no revoked certificates the list is absent.
  int revoked_header = count_ > 0 ? HeaderSize(1, entries_len, V_ASN1_SEQUENCE) : 0;
  int tbs_content = static_cast<int>(prep.prefix.size() + prep.extensions.size()) +
                    revoked_header + entries_len;
  int tbs_header = HeaderSize(1, tbs_content, V_ASN1_SEQUENCE);
  size_t tbs_start = headroom_ - revoked_header - prep.prefix.size() - tbs_header;

  std::string head;
  AppendHeader(head, 1, tbs_content, V_ASN1_SEQUENCE);
  head += prep.prefix;
  if (count_ > 0) AppendHeader(head, 1, entries_len, V_ASN1_SEQUENCE);
  buf_.replace(tbs_start, head.size(), head);
  buf_ += prep.extensions;
  size_t tbs_len = buf_.size() - tbs_start;

  const auto* tbs = reinterpret_cast<const unsigned char*>(buf_.data() + tbs_start);
  size_t sig_len = 0;
  if (EVP_DigestSign(prep.sign_ctx.get(), nullptr, &sig_len, tbs, tbs_len) != 1) {
    return OpenSslError("size the CRL signature");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(prep.sign_ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &sig_len, tbs, tbs_len) != 1) {
    return OpenSslError("sign the CRL");
  }
  sig.resize(sig_len);

  buf_ += prep.sig_alg;
  AppendHeader(buf_, 0, static_cast<int>(sig.size() + 1), V_ASN1_BIT_STRING);
  buf_ += '\0';  // no unused bits
  buf_ += sig;
  int outer_content = static_cast<int>(buf_.size() - tbs_start);
  std::string outer;
  AppendHeader(outer, 1, outer_content, V_ASN1_SEQUENCE);
  size_t start = tbs_start - outer.size();
  buf_.replace(start, outer.size(), outer);
  buf_.erase(0, start);  // moves the CRL to the front of the same buffer
  prepared_.reset();
  return std::move(buf_);
}

}  // namespace certctl
