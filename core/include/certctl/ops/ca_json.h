// JSON of the CA procedures' results (see op_json.h): the "data" of
// `certctl-admin ca status|backup -o json`, and manifest.json of a backup.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/ca_backup.h"
#include "certctl/ops/ca_status.h"

namespace certctl::ops {

// {thresholds: {warning, critical} (durations, "365d"), issuers: [{issuer,
//  unfinished_rotation: {id, from_generation, to_generation|null, mode, step, state,
//  started_at, started_by}|null, generations: [{generation, state, subject,
//  key_type, serial, fingerprint_sha256, not_before, not_after,
//  seconds_left, expiry, key_file: {path, exists, mode ("0600")|null,
//  owner|null, algorithm|null, matches_certificate, problem|null},
//  unexpired_certificates, last_certificate_expiry|null, can_be_archived,
//  responder: {verdict, serial|null, not_after|null}, crl: {verdict,
//  crl_number|null, next_update|null}, backup: {id, directory, created_at,
//  created_by}|null}]}]}.
nlohmann::json ToJson(const CaStatus& status);

// manifest.json: {format, certctl_version, issuer, created_at, created_by,
//  host, run_id, generations: [{generation, state, subject, fingerprint_sha256,
//  not_before, not_after, key_path, responder_serial|null}], trust_bundles:
//  [{name, path, file}], files: [{name, kind, generation|null, source,
//  sha256, size}]}.
nlohmann::json ToJson(const CaBackupManifest& manifest);
// {issuer, directory, manifest_sha256, backup_id|null, manifest}.
nlohmann::json ToJson(const CaBackupWritten& result);
// {directory, manifest_sha256|null, issuer|null, created_at|null,
//  recorded_backup_id|null, files: [{name, verdict, detail}], generations:
//  [{generation, verdict, detail}]}.
nlohmann::json ToJson(const CaBackupVerified& result);

}  // namespace certctl::ops
