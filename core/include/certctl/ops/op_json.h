// JSON at the edge: the document of one operation run, as certctl-admin
// prints it with `--output json` and certctld's API returns it. Core's
// callers use the typed results; only these two renderings use JSON.
//
// The document (its keys are a documented, stable interface):
//   {"operation", "target", "dry_run", "ok", "error": {code, message} | null,
//    "plan", "steps", "before", "after", "data", "findings", "duration_ms"}
// "ok" is true when the status is OK and no finding is an error. "data" is
// ToJson(result) (declared in certctl/ops/<module>_json.h next to the
// result types); "before" and "after" are ToJson of the result's `before`
// and `after` members when it has them, else {}.
#pragma once

#include <nlohmann/json.hpp>

#include "certctl/ops/op.h"

namespace certctl::ops {

// The parts of the document that come from an operation's result.
struct ReportJsonParts {
  nlohmann::json data = nlohmann::json::object();
  nlohmann::json before = nlohmann::json::object();
  nlohmann::json after = nlohmann::json::object();
};

nlohmann::json ReportJson(const OpReport& report, const Status& status,
                          const ReportJsonParts& parts);

// The document's "ok" (the status is OK and no finding is an error) and
// "error" ({code, message}, null when the status is OK).
bool ReportOk(const OpReport& report, const Status& status);
nlohmann::json ErrorJson(const Status& status);

// A result that says what it found before it acted and what it left after
// (each member optional: absent in a dry run, for instance).
template <typename T>
concept HasBeforeAfter = requires(const T& v) {
  v.before.has_value();
  v.after.has_value();
};

// ToJson(value) as "data", and its before/after if it has them. ToJson is
// found by argument-dependent lookup: include the result's *_json.h.
template <typename T>
ReportJsonParts JsonParts(const T& value) {
  ReportJsonParts parts;
  parts.data = ToJson(value);
  if constexpr (HasBeforeAfter<T>) {
    if (value.before) parts.before = ToJson(*value.before);
    if (value.after) parts.after = ToJson(*value.after);
  }
  return parts;
}

// The document of a run that returned `result` (data {} when it failed).
template <typename T>
nlohmann::json ReportJson(const OpReport& report, const Result<T>& result) {
  return ReportJson(report, result.status(),
                    result.ok() ? JsonParts(*result) : ReportJsonParts{});
}

// {"severity", "code", "subject", "message"}.
nlohmann::json ToJson(const Finding& finding);

}  // namespace certctl::ops
