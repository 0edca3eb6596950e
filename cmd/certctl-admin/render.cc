// Text rendering helpers shared by the command groups.
#include "render.h"

#include <algorithm>
#include <iomanip>
#include <regex>

namespace certctl::admin {
namespace {

size_t VisibleWidth(const std::string& s) {
  static const std::regex escapes("\033\\[[0-9;]*m");
  return std::regex_replace(s, escapes, "").size();
}

}  // namespace

void PrintTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                int indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], VisibleWidth(row[i]));
  }
  for (const auto& row : rows) {
    std::string line(indent, ' ');
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - VisibleWidth(row[i]) + 2, ' ');
    }
    out << line << "\n";
  }
}

void PrintPlanStepsFindings(const AdminApp& app, const ops::OpReport& r,
                            std::ostream& out) {
  if (r.dry_run) {
    out << (r.plan.empty() ? "dry run: nothing would change\n" : "dry run: would\n");
    for (const auto& p : r.plan) out << "  " << p << "\n";
  }
  for (const auto& s : r.steps) out << s << "\n";
  for (const auto& f : r.findings) {
    out << app.PaintVerdict(f.severity) << ": " << f.subject << ": " << f.message << " ["
        << f.code << "]\n";
  }
}

void PrintObject(std::ostream& out, const nlohmann::json& object, int indent) {
  std::vector<std::pair<std::string, std::string>> scalars;
  auto flush = [&] {
    PrintFields(out, scalars, indent);
    scalars.clear();
  };
  for (const auto& [key, value] : object.items()) {
    std::string label = key;
    std::replace(label.begin(), label.end(), '_', ' ');
    if (value.is_object()) {
      flush();
      out << std::string(indent, ' ') << label << ":\n";
      PrintObject(out, value, indent + 2);
    } else if (value.is_array() && !value.empty() && value.front().is_object()) {
      flush();
      out << std::string(indent, ' ') << label << ":\n";
      std::vector<std::vector<std::string>> rows{{}};
      for (const auto& [k, v] : value.front().items()) rows[0].push_back(k);
      for (const auto& item : value) {
        std::vector<std::string> row;
        for (const auto& k : rows[0])
          row.push_back(item.contains(k) ? Cell(item[k]) : "-");
        rows.push_back(row);
      }
      PrintTable(out, rows, indent + 2);
    } else if (value.is_array()) {
      std::string joined;
      for (const auto& v : value) joined += (joined.empty() ? "" : ", ") + Cell(v);
      scalars.emplace_back(label, joined.empty() ? "-" : joined);
    } else {
      scalars.emplace_back(label, Cell(value));
    }
  }
  flush();
}

std::string Cell(const nlohmann::json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void PrintFields(std::ostream& out,
                 const std::vector<std::pair<std::string, std::string>>& fields,
                 int indent) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, k.size());
  for (const auto& [k, v] : fields) {
    out << std::string(indent, ' ') << std::left << std::setw(static_cast<int>(width + 2))
        << (k + ":") << v << "\n";
  }
}

}  // namespace certctl::admin
