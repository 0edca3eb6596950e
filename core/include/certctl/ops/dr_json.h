// JSON of `dr check`'s, `dr report`'s and `dr drill`'s results (see op_json.h).
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/dr_check.h"
#include "certctl/ops/dr_drill.h"
#include "certctl/ops/dr_report.h"

namespace certctl::ops {

// {name, profile, status, message, fix}.
nlohmann::json ToJson(const DrCheckResult& check);
// {profile, checked_at, checks: [...], counts: {ok, warning, critical,
// unknown}, status (the worst), recorded}.
nlohmann::json ToJson(const DrCheckRun& run);
// {name, title, actions, limited, events: [audit events as `audit list`
// shows them]}.
nlohmann::json ToJson(const DrEvidenceSection& section);
// {since, until, sections: [...], audit_log: {intact, rows_checked, problem}}.
nlohmann::json ToJson(const DrReport& report);
// {passed, dump: {path, format, bytes, sha256, schema_version,
// schema_version_after, rows}, scratch: {database, server, directory, kept,
// certctld_pid, api_url, pki_url}, certificate: {issuer, generation, serial,
// crl_number, ocsp_status}, steps: [{name, outcome, duration_ms, detail}]}.
nlohmann::json ToJson(const DrDrill& drill);

}  // namespace certctl::ops
