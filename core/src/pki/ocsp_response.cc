// OCSP responses: signing answers, error responses, and reading responses
// back for checks.
#include <openssl/err.h>

#include "certctl/pki/certificate.h"
#include "certctl/pki/ocsp.h"
#include "certctl/util/time_format.h"

namespace certctl {
namespace {

Result<UniquePtr<ASN1_STRING>> GeneralizedTime(TimePoint t) {
  UniquePtr<ASN1_STRING> out(ASN1_GENERALIZEDTIME_set(nullptr, ToUnixSeconds(t)));
  if (!out) return OpenSslError("encode GeneralizedTime");
  return out;
}

std::optional<TimePoint> OptionalTime(const ASN1_GENERALIZEDTIME* t) {
  if (!t) return std::nullopt;
  auto r = Asn1TimeToTimePoint(t);
  if (!r.ok()) return std::nullopt;
  return *r;
}

Status AddSingleResponse(OCSP_BASICRESP* bs, const OcspSingleResponse& a,
                         ASN1_TIME* this_update, ASN1_TIME* next_update) {
  if (!a.id || !a.id->id) return Status::InvalidArgument("OCSP answer without a CertID");
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = OCSP_REVOKED_STATUS_NOSTATUS;
  UniquePtr<ASN1_STRING> revoked_at;
  if (a.status == OcspCertStatus::kGood) status = V_OCSP_CERTSTATUS_GOOD;
  if (a.status == OcspCertStatus::kRevoked) {
    status = V_OCSP_CERTSTATUS_REVOKED;
    // As in CRL entries (RFC 5280 §5.3.1), "unspecified" is said by omission;
    // so is removeFromCRL, which means "no longer revoked" (delta CRLs only)
    // and must never qualify a "revoked".
    if (a.reason != 0 && a.reason != CRL_REASON_REMOVE_FROM_CRL) reason = a.reason;
    ASSIGN_OR_RETURN(revoked_at, GeneralizedTime(a.revoked_at));
  }
  if (!OCSP_basic_add1_status(bs, a.id->id.get(), status, reason, revoked_at.get(),
                              this_update, next_update)) {
    return OpenSslError("add OCSP SingleResponse");
  }
  return Status::Ok();
}

std::optional<std::string> ResponseNonce(OCSP_BASICRESP* bs) {
  int loc = OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1);
  if (loc < 0) return std::nullopt;
  ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(OCSP_BASICRESP_get_ext(bs, loc));
  const unsigned char* p = ASN1_STRING_get0_data(value);
  UniquePtr<ASN1_OCTET_STRING> inner(
      d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(value)));
  if (!inner) {
    ERR_clear_error();
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                       static_cast<size_t>(ASN1_STRING_length(value)));
  }
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(inner.get())),
                     static_cast<size_t>(ASN1_STRING_length(inner.get())));
}

OcspSingleStatus ReadSingle(OCSP_SINGLERESP* single) {
  OcspSingleStatus out;
  const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(single);
  auto id_der = EncodeDer(i2d_OCSP_CERTID, id, "OCSP CertID");
  if (id_der.ok()) out.cert_id_der = std::move(id_der).value();  // else matches nothing
  ASN1_INTEGER* serial = nullptr;
  OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, const_cast<OCSP_CERTID*>(id));
  if (serial) {
    auto s = Serial::FromAsn1(serial);
    if (s.ok()) out.serial = s->hex();
  }
  int reason = -1;
  ASN1_GENERALIZEDTIME *revtime = nullptr, *thisupd = nullptr, *nextupd = nullptr;
  int status = OCSP_single_get0_status(single, &reason, &revtime, &thisupd, &nextupd);
  if (status == V_OCSP_CERTSTATUS_GOOD) out.status = OcspCertStatus::kGood;
  if (status == V_OCSP_CERTSTATUS_REVOKED) out.status = OcspCertStatus::kRevoked;
  out.reason = reason;
  out.revoked_at = OptionalTime(revtime);
  out.this_update = OptionalTime(thisupd).value_or(TimePoint{});
  out.next_update = OptionalTime(nextupd);
  ERR_clear_error();
  return out;
}

}  // namespace

Result<std::string> SignOcspResponse(const std::vector<OcspSingleResponse>& answers,
                                     const OcspSigningParams& params) {
  if (!params.responder_cert || !params.responder_key) {
    return Status::InvalidArgument(
        "OCSP signing needs the responder certificate and key");
  }
  if (answers.empty()) return Status::InvalidArgument("OCSP response without answers");
  UniquePtr<OCSP_BASICRESP> bs(OCSP_BASICRESP_new());
  if (!bs) return OpenSslError("OCSP_BASICRESP_new");
  ASSIGN_OR_RETURN(auto this_update, GeneralizedTime(params.this_update));
  ASSIGN_OR_RETURN(auto next_update, GeneralizedTime(params.next_update));
  for (const auto& a : answers) {
    RETURN_IF_ERROR(AddSingleResponse(bs.get(), a, this_update.get(), next_update.get()));
  }
  // OCSP_copy_nonce puts the nonce in responseExtensions (RFC 6960 §4.4.1),
  // where clients look for it, not in singleExtensions.
  if (params.nonce_from && OCSP_copy_nonce(bs.get(), params.nonce_from) <= 0) {
    return OpenSslError("echo OCSP nonce");
  }
  // Responder ID by key hash (RFC 5019 §2.2.3); the certificate is included.
  if (OCSP_basic_sign(bs.get(), params.responder_cert, params.responder_key, EVP_sha256(),
                      nullptr, OCSP_RESPID_KEY) != 1) {
    return OpenSslError("sign OCSP response");
  }
  UniquePtr<OCSP_RESPONSE> resp(
      OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs.get()));
  if (!resp) return OpenSslError("OCSP_response_create");
  return EncodeDer(i2d_OCSP_RESPONSE, resp.get(), "OCSP response");
}

std::string OcspErrorResponseDer(OcspResponseStatus status) {
  UniquePtr<OCSP_RESPONSE> resp(OCSP_response_create(static_cast<int>(status), nullptr));
  if (!resp) return {};
  auto der = EncodeDer(i2d_OCSP_RESPONSE, resp.get(), "OCSP error response");
  return der.ok() ? std::move(der).value() : std::string();
}

Result<ParsedOcspResponse> ParseOcspResponse(std::string_view der) {
  ParsedOcspResponse out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  out.response.reset(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!out.response)
    return OpenSslError(StatusCode::kInvalidArgument, "not an OCSP response");
  if (p != end) return Status::InvalidArgument("OCSP response has trailing bytes");
  out.response_status = OCSP_response_status(out.response.get());
  if (out.response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) return out;
  out.basic.reset(OCSP_response_get1_basic(out.response.get()));
  if (!out.basic) {
    return OpenSslError(StatusCode::kCorruption,
                        "OCSP response has no BasicOCSPResponse");
  }
  for (int i = 0; i < OCSP_resp_count(out.basic.get()); ++i) {
    out.singles.push_back(ReadSingle(OCSP_resp_get0(out.basic.get(), i)));
  }
  out.produced_at =
      OptionalTime(OCSP_resp_get0_produced_at(out.basic.get())).value_or(TimePoint{});
  out.nonce = ResponseNonce(out.basic.get());
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(out.basic.get());
  if (certs && sk_X509_num(certs) > 0) out.signer = sk_X509_value(certs, 0);
  return out;
}

Status VerifyOcspResponse(const ParsedOcspResponse& response, X509* ca_cert) {
  if (!response.basic) return Status::Corruption("OCSP response is not a successful one");
  UniquePtr<X509_STORE> store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), ca_cert) != 1) {
    return OpenSslError("build trust store for OCSP verification");
  }
  // `ca_cert` is the trust anchor also when it is a subordinate CA (a sub-CA
  // generation of `ca rotate`), as a relying party configured with it has it.
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  if (OCSP_basic_verify(response.basic.get(), nullptr, store.get(), 0) != 1) {
    return OpenSslError(
        StatusCode::kCorruption,
        "OCSP response does not verify with CA \"" + SubjectOf(ca_cert) + "\"");
  }
  return Status::Ok();
}

bool OcspResponseSignedBy(const ParsedOcspResponse& response, X509* responder) {
  if (!response.basic || !responder) return false;
  UniquePtr<X509_STORE> store(X509_STORE_new());
  UniquePtr<STACK_OF(X509)> certs(sk_X509_new_null());
  if (!certs || !store || X509_up_ref(responder) != 1) return false;
  if (!sk_X509_push(certs.get(), responder)) {
    X509_free(responder);  // the reference taken for the stack
    return false;
  }
  // NOINTERN: the signer must be `responder` (matched by responder ID);
  // NOVERIFY: the signature alone is checked, the chain is the caller's matter.
  int ok = OCSP_basic_verify(response.basic.get(), certs.get(), store.get(),
                             OCSP_NOINTERN | OCSP_NOVERIFY);
  ERR_clear_error();
  return ok == 1;
}

}  // namespace certctl
