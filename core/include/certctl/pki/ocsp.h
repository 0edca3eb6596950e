// OCSP messages (RFC 6960, profile of RFC 5019) on OpenSSL's OCSP API:
// parsing requests, matching CertIDs against CA certificates, building and
// signing responses, and reading responses back for checks.
//
// Nothing here touches the database or the clock: callers pass the times and
// the statuses. Functions are thread-safe (they share no state).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/pki/ossl.h"
#include "certctl/pki/serial.h"
#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

// OCSPResponseStatus (RFC 6960 §4.2.1).
enum class OcspResponseStatus : int {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kInternalError = 2,
  kTryLater = 3,
  kSigRequired = 5,
  kUnauthorized = 6,
};

// CertStatus; the numbers are the ocsp_response_cache.cert_status codes.
enum class OcspCertStatus : int { kGood = 0, kRevoked = 1, kUnknown = 2 };
std::string_view OcspCertStatusName(
    OcspCertStatus status);  // "good", "revoked", "unknown"

// The nonce sizes accepted in a request: RFC 9654 §2.1 (which obsoletes RFC
// 8954) defines Nonce ::= OCTET STRING (SIZE(1..128)) and has a responder
// refuse 0 or more than 128 octets with malformedRequest. A responder MUST
// accept 16 to 32 and MAY answer other sizes without the nonce; certctl echoes
// every nonce of 1 to 128 octets: clients of RFC 6960's era send short ones,
// and an echoed nonce costs the same at any size (the answer is signed live
// and never cached either way).
inline constexpr size_t kMinOcspNonceBytes = 1;
inline constexpr size_t kMaxOcspNonceBytes = 128;
// At most this many CertIDs in one request; more is malformedRequest. RFC
// 5019 clients send one, `openssl ocsp` one per -serial. Each CertID costs a
// database lookup and a SingleResponse in the signed answer, so the cap
// bounds what one request of up to 64 KiB can make certctld do.
inline constexpr int kMaxOcspRequestCertIds = 64;

// One CertID of a request, as the client sent it.
struct OcspCertId {
  UniquePtr<OCSP_CERTID> id;     // an owned copy
  std::string der;               // its DER (cache key: algorithm, hashes, serial)
  std::string hash_name;         // "sha1", "sha256", ...; "" when not SHA-1 or SHA-2
  std::optional<Serial> serial;  // unset when not a valid certificate serial
};

struct OcspRequestInfo {
  UniquePtr<OCSP_REQUEST> request;
  std::vector<OcspCertId> ids;       // at least one, in request order
  std::optional<std::string> nonce;  // the nonce octets, when the request has one
};

// Parses a DER OCSPRequest. InvalidArgument (to be answered malformedRequest)
// for bad DER, trailing bytes, an empty request list, more than
// kMaxOcspRequestCertIds CertIDs, a nonce extension that is not one OCTET
// STRING of kMinOcspNonceBytes..kMaxOcspNonceBytes, or a critical extension
// certctl does not understand, in requestExtensions or a CertID's
// singleRequestExtensions (RFC 6960 §4.4; the nonce is the only one it
// understands). Non-critical unknown extensions are ignored. A CertID whose
// serial is not a valid certificate serial, or whose hash algorithm is not
// SHA-1 or SHA-2 (hash_name ""), is kept and never matched to an issuer, so
// it is answered "unknown" (or the request "unauthorized"), never "good".
// The request signature, if any, is not checked (RFC 6960 makes it optional
// and certctl answers anyone).
Result<OcspRequestInfo> ParseOcspRequest(std::string_view der);

// The DER request of an RFC 6960 A.1 GET from the path after the responder's
// URL: the base64 of the DER (standard or URL-safe alphabet, '/' included),
// percent-encoded or not. InvalidArgument when it does not decode.
Result<std::string> DecodeOcspGetRequest(std::string_view encoded);

// Whether `id` names `ca_cert` as its issuer: issuer name hash and issuer key
// hash recomputed with the CertID's own hash algorithm (false for any
// algorithm but SHA-1 and SHA-2).
bool CertIdIssuedBy(const OcspCertId& id, X509* ca_cert);

// A DER OCSPRequest for `serials` of `ca_cert`'s certificates, with CertIDs
// hashed with `md` (SHA-1 when null) and an optional nonce.
Result<std::string> MakeOcspRequestDer(
    X509* ca_cert, const std::vector<Serial>& serials, const EVP_MD* md = nullptr,
    const std::optional<std::string>& nonce = std::nullopt);

// What to say about one CertID: one SingleResponse (RFC 6960 §4.2.1) of the
// response SignOcspResponse builds.
struct OcspSingleResponse {
  const OcspCertId* id = nullptr;  // borrowed; its CertID is echoed as sent
  OcspCertStatus status = OcspCertStatus::kUnknown;
  // RFC 5280 CRLReason; omitted when 0 (unspecified) or 8 (removeFromCRL,
  // which would contradict "revoked").
  int reason = 0;
  TimePoint revoked_at;  // with kRevoked
};

struct OcspSigningParams {
  X509* responder_cert = nullptr;  // included in the response so clients can verify
  EVP_PKEY* responder_key = nullptr;
  TimePoint this_update;
  TimePoint next_update;
  // The request whose nonce is echoed in responseExtensions (null: no nonce).
  OCSP_REQUEST* nonce_from = nullptr;
};

// Signs a successful OCSPResponse (BasicOCSPResponse, responder ID by key
// hash, SHA-256) with one SingleResponse per answer, in order. producedAt is
// OpenSSL's current time.
Result<std::string> SignOcspResponse(const std::vector<OcspSingleResponse>& answers,
                                     const OcspSigningParams& params);

// An unsigned OCSPResponse carrying only an error status (malformedRequest,
// internalError, tryLater, unauthorized).
std::string OcspErrorResponseDer(OcspResponseStatus status);

// A response read back, for checks and for verifying cached answers.
struct OcspSingleStatus {
  std::string cert_id_der;
  std::string serial;  // canonical hex, "" when invalid
  OcspCertStatus status = OcspCertStatus::kUnknown;
  int reason = -1;  // -1 when absent
  std::optional<TimePoint> revoked_at;
  TimePoint this_update;
  std::optional<TimePoint> next_update;
};

struct ParsedOcspResponse {
  int response_status = 0;
  UniquePtr<OCSP_RESPONSE> response;
  UniquePtr<OCSP_BASICRESP> basic;  // null unless successful
  std::vector<OcspSingleStatus> singles;
  TimePoint produced_at;
  std::optional<std::string> nonce;  // from responseExtensions
  X509* signer = nullptr;            // the first certificate in the response (borrowed)
};

// Parses a DER OCSPResponse. InvalidArgument when it is not one (trailing
// bytes included); a successful status without a parseable BasicOCSPResponse
// is Corruption.
Result<ParsedOcspResponse> ParseOcspResponse(std::string_view der);

// Checks a successful response the way a relying party does: the signature,
// the signer chaining to `ca_cert` (delegated responder with OCSPSigning, or
// the CA itself), and that its CertIDs name `ca_cert`. Corruption with
// OpenSSL's reason otherwise. Validity times are not checked here.
Status VerifyOcspResponse(const ParsedOcspResponse& response, X509* ca_cert);

// Whether the response's signature verifies with `responder`'s public key.
bool OcspResponseSignedBy(const ParsedOcspResponse& response, X509* responder);

}  // namespace certctl
