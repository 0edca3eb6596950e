// JSON of the OCSP procedures' results (see op_json.h): the "data" of
// `certctl-admin ocsp status|check|reset-responder -o json`.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/ocsp_ops.h"

namespace certctl::ops {

// {serial, subject, not_before, not_after, created_at, key_path}.
nlohmann::json ToJson(const ResponderCertificate& responder);
// {issuer, generation, action, reason, responder|null}.
nlohmann::json ToJson(const ResponderEnsured& result);
// {responders: [{issuer, generation, action, reason, error|null}]}.
nlohmann::json ToJson(const ResponderRotations& result);
// The certificate's fields and {ocsp_signing, ocsp_nocheck,
// digital_signature, issued_by_generation, key_algorithm}.
nlohmann::json ToJson(const InspectedResponder& responder);
// {path, exists, mode ("0600")|null, owner|null, matches_certificate,
//  algorithm (once the key parsed)}.
nlohmann::json ToJson(const ResponderKeyFile& key_file);
// {serial, subject, not_before, not_after, created_at, replaced_at|null, reason}.
nlohmann::json ToJson(const ReplacedResponder& replaced);
// {issuer, generations: [{generation, state, responder|null, key_file,
//  history}]}.
nlohmann::json ToJson(const ResponderStatus& result);
// {status, reason|null, revoked_at|null}.
nlohmann::json ToJson(const CertificateStatus& status);
// {issuer, serial, database: {...}, responder: {status, reason, revoked_at,
//  this_update, next_update|null, produced_at, responder, responder_serial,
//  source}|null}.
nlohmann::json ToJson(const OcspAnswerCheck& result);
nlohmann::json ToJson(const ResponderState& state);  // {responder|null, ocsp_rows}
// {issuer, generation, keep_key, key_path, key_backup, old_serial,
//  responder|null, ocsp_rows_deleted, verified}, and live_check (as
//  OcspAnswerCheck) when the live responder was asked.
nlohmann::json ToJson(const ResponderReset& result);

}  // namespace certctl::ops
