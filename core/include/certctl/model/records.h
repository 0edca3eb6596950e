// The rows of the certctl schema as plain values: what the store (private to
// core, core/src/store) reads and writes, and what operations hand to their
// callers. Data only; nothing here touches the database. A module of its
// own, below both, so that the store includes no ops header. (Audit events
// are certctl/audit/event.h.)
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

// kPending: registered by an unfinished `ca rotate` (its responder and first
// CRL are made before issuance switches to it); it never issues.
enum class GenerationState { kActive, kRetired, kPending };
// "active", "retired", "pending".
std::string_view GenerationStateName(GenerationState state);

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
  // A sub-CA's issuers up to its root (PEM, nearest first); empty when the
  // CA is self-signed.
  std::string chain_pem;
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

}  // namespace certctl
