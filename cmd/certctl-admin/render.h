// Text output for people: aligned fields and tables, a report's plan, steps
// and findings. (JSON output is the report itself; see AdminApp::Finish.)
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "app.h"

namespace certctl::admin {

// Renders a JSON object as aligned "key: value" lines, nested objects
// indented under their key (arrays of objects as tables).
void PrintObject(std::ostream& out, const nlohmann::json& object, int indent = 0);

// Renders "key: value" lines aligned, for text output.
void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields,
                 int indent = 0);

// Renders rows as columns padded to the widest cell (the first row is the
// header). Colour escapes in cells do not count towards the width.
void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                int indent = 0);

// Prints a report's plan (dry run), steps and findings, the common part of
// every text renderer.
void PrintPlanStepsFindings(const AdminApp& app, const ops::OpReport& r,
                            std::ostream& out);

// JSON value as text for a table cell: strings bare, null as "-".
std::string Cell(const nlohmann::json& v);

}  // namespace certctl::admin
