// certctld's endpoints: free functions from (request, application state) to
// response. They never touch a socket; the router calls them after matching
// the path (request.params), checking the listener and authenticating
// (request.principal), and tests call them directly.
//
// Errors are JSON {"error": {"code", "message"}} with the HTTP status of
// HttpStatusFor(); the code is ErrorCodeName() of the Status ("not_found",
// "already_exists", ...) unless a handler documents another. A 5xx carries a
// generic message ("internal error"); its detail goes to the server log only.
#pragma once

#include "daemon/app.h"
#include "daemon/http_message.h"

namespace certctl::daemon::handlers {

// --- health (HTTPS API listener, no authentication) -------------------------
// GET /healthz: 200 {"status": "ok"} while the process runs.
HttpResponse Healthz(const HttpRequest& req, App& app);
// GET /readyz: 200 when the database is reachable, the CA is loaded and the
// process is not draining; 503 otherwise. {"ready", "database": "up"|"down",
// "ca": "loaded"|"missing", "draining"}.
HttpResponse Readyz(const HttpRequest& req, App& app);
// GET /metrics: Prometheus text format (see daemon/metrics.h), with the
// database pool state (certctl_db_pool_connections{state}), readiness and
// the OCSP memory cache size sampled at scrape time.
HttpResponse MetricsText(const HttpRequest& req, App& app);

// --- certificates (Bearer key; reader for GET, operator for POST) -----------
// POST /api/v1/certificates
//   {"csr": "<PEM>"} or {"generate_key": true | "<algorithm>", "common_name",
//   "dns_names": [...]} (server-side key: tests and demos), optional
//   "issuer" (default iss-local) and "validity_days".
//   201 {"serial", "certificate", "chain", "issuer", "generation",
//   "not_after" (RFC 3339), "private_key" (only with generate_key)}.
//   400 for a bad body, CSR or profile, with the reason (every rule is in
//   ops::IssueCertificate and ParseCsrPem: key, subject attributes and their
//   RFC 5280 upper bounds, no control characters, DNS and e-mail syntax,
//   wildcards, at most certificate_max_sans names); 404 for an unknown issuer.
HttpResponse IssueCertificate(const HttpRequest& req, App& app);
// GET /api/v1/certificates/{serial}[?issuer=]: the certificate with its
// status ("active", "revoked", "expired") and revocation. 400 for a
// malformed serial, 404 when unknown.
HttpResponse GetCertificate(const HttpRequest& req, App& app);
// GET /api/v1/certificates?issuer=&status=&limit=&cursor=
//   {"items": [...], "next_cursor": "..." | null}; status is active,
//   revoked, expired or any; limit 1..1000 (default 100).
HttpResponse ListCertificates(const HttpRequest& req, App& app);
// POST /api/v1/certificates/{serial}/revoke {"reason": "<RFC 5280 name>"}
//   (optional; default unspecified; optional "issuer"). The serial in any
//   case, with or without leading zeros. 200 {"issuer", "serial", "reason",
//   "revoked_at", "revoked_by"}; 404 unknown serial; 409 already revoked
//   (code "already_exists"); 400 bad reason or serial. Reasons: unspecified,
//   keyCompromise, cACompromise, affiliationChanged, superseded,
//   cessationOfOperation, privilegeWithdrawn. removeFromCRL (delta CRLs only;
//   in a complete CRL it un-revokes), aACompromise (attribute certificates)
//   and certificateHold (no hold and release: a certificate once revoked is
//   never "good" again) are 400 with the reason why; see
//   ops::RevokeCertificate.
HttpResponse RevokeCertificate(const HttpRequest& req, App& app);

// --- issuers and audit (reader) ----------------------------------------------
// GET /api/v1/issuers: {"items": [{"id", "display_name", "revocation_epoch",
// "crl_url", "ocsp_url", "generations": [...]}]}.
HttpResponse ListIssuers(const HttpRequest& req, App& app);
// GET /api/v1/audit?since=<RFC 3339>&action=&actor=&limit= (default 100,
// at most 1000): {"items": [...]} oldest first.
HttpResponse ListAudit(const HttpRequest& req, App& app);

// --- admin (admin role) --------------------------------------------------
// POST /api/v1/admin/trust-anchors/{name}/reload: ReloadTrustAnchors for one
// bundle (name "*" reloads all). 200 with the OpReport JSON. A refused bundle
// keeps its old pool: 422 {"error": {"code": "trust.<problem>", "message"},
// "report": {...}}. 404 for an unknown name.
HttpResponse ReloadTrustAnchor(const HttpRequest& req, App& app);

// --- PKI (both listeners, no authentication) ------------------------------
// GET /.well-known/pki/crl/{issuer}[/{generation}]: DER,
// application/pkix-crl, ETag, Cache-Control max-age until nextUpdate,
// Expires, Last-Modified; 304 on a matching If-None-Match; 400 for a
// malformed issuer id or generation; 404 unknown; 503 database down with
// nothing valid in memory.
HttpResponse GetCrl(const HttpRequest& req, App& app);
// POST /.well-known/pki/ocsp/{issuer} (application/ocsp-request, or no
// Content-Type; anything else is 415): always an OCSPResponse
// (application/ocsp-response); malformedRequest for garbage, more than
// kMaxOcspRequestCertIds CertIDs, a nonce of 0 or more than 128 octets or a
// critical extension certctl does not understand (ParseOcspRequest).
HttpResponse OcspPost(const HttpRequest& req, App& app);
// GET /.well-known/pki/ocsp/{issuer}/{url-encoded base64 request}
// (RFC 6960 A.1), with Cache-Control, Expires, Last-Modified and ETag from the
// answer (no-store for answers to a nonce or unsuccessful responses).
HttpResponse OcspGet(const HttpRequest& req, App& app);
// GET /.well-known/pki/ocsp/{issuer}/serial/{serial_hex}: as OcspGet for a
// serial; 400 JSON for a malformed serial.
HttpResponse OcspGetBySerial(const HttpRequest& req, App& app);
// GET /.well-known/pki/ca/{issuer}[/{generation}]: the CA certificate of the
// generation (without one: the active generation) as DER,
// application/pkix-cert, the target of issued certificates' caIssuers
// pointer (RFC 5280 §4.2.2.1). Cache-Control public (7 days for a
// generation, 1 hour for the active one) and ETag. 400 for a malformed issuer
// id or generation; 404 unknown; 503 database down.
HttpResponse GetCaCertificate(const HttpRequest& req, App& app);

}  // namespace certctl::daemon::handlers
