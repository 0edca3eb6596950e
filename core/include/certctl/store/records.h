// Rows of the certctl schema as plain values, shared by the repositories.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "certctl/util/clock.h"
#include "certctl/util/status.h"

namespace certctl {

struct IssuerRecord {
  std::string id;
  std::string display_name;
  int64_t revocation_epoch = 0;
  TimePoint created_at;
};

enum class GenerationState { kActive, kRetired };

struct CaGenerationRecord {
  std::string issuer_id;
  int generation = 0;
  GenerationState state = GenerationState::kActive;
  std::string cert_pem;
  std::string cert_sha256;  // lowercase hex of the DER
  std::string key_path;
  std::string subject;
  TimePoint not_before;
  TimePoint not_after;
  TimePoint created_at;
  std::optional<TimePoint> retired_at;
};

struct CertificateRecord {
  std::string issuer_id;
  std::string serial;  // canonical (Serial::hex())
  int generation = 0;
  std::string subject;
  std::vector<std::string> sans;  // "DNS:a.example", "IP:10.0.0.1", "email:x@y"
  TimePoint not_before;
  TimePoint not_after;
  std::string cert_der;
  TimePoint issued_at;
  std::string issued_by;
};

struct RevocationRecord {
  std::string issuer_id;
  std::string serial;
  int generation = 0;
  int reason = 0;  // RFC 5280 CRLReason code
  TimePoint revoked_at;
  std::string revoked_by;
};

// RFC 5280 CRLReason names ("keyCompromise") <-> codes (1). "unspecified" is 0;
// 7 is not a reason. Names are matched exactly as RFC 5280 spells them.
Result<int> ParseRevocationReason(std::string_view name);
std::string_view RevocationReasonName(int code);

// A certificate with its revocation, if any.
struct CertificateStatusRecord {
  CertificateRecord certificate;
  std::optional<RevocationRecord> revocation;
};

enum class CertificateStatusFilter { kAny, kActive, kRevoked, kExpired };

// "active", "revoked", "expired" ("" or "any" for all).
Result<CertificateStatusFilter> ParseCertificateStatusFilter(std::string_view text);

// One page of certificates, as the API lists them.
struct CertificateListFilter {
  std::string issuer;  // empty: all issuers
  CertificateStatusFilter status = CertificateStatusFilter::kAny;
  int limit = 100;     // 1..1000
  std::string cursor;  // opaque, from a previous page; empty: first page
};

struct CertificatePage {
  std::vector<CertificateStatusRecord> items;
  std::string next_cursor;  // empty on the last page
};

enum class AuditOutcome { kStarted, kSucceeded, kFailed };

struct AuditEvent {
  int64_t id = 0;         // assigned by the database
  TimePoint occurred_at;  // assigned by the database
  std::string actor;
  std::string host;
  std::string action;  // e.g. "crl.regenerate", "certificate.revoke"
  std::string target;  // e.g. "iss-local" or "iss-local/3f0a..."
  AuditOutcome outcome = AuditOutcome::kSucceeded;
  std::string command_line;  // secrets masked by the caller
  std::string parameters_json = "{}";
  std::string detail;
  std::optional<int64_t> duration_ms;
  std::string correlation_id;  // ties a start event to its end event
  std::string prev_hash;       // raw bytes
  std::string hash;            // raw bytes
  // The chain (certctl/audit/chain.h): 1 for the unkeyed rows written before
  // schema version 3, 2 for rows keyed with the audit key.
  int chain_version = 2;
  std::optional<int64_t> seq;  // position in the log from 1; unset on version-1 rows
  std::string key_id;          // id of the audit key that signed it; empty on version 1
};

std::string_view AuditOutcomeName(AuditOutcome outcome);

}  // namespace certctl
