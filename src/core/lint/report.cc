// The three output formats. Messages carry project strings (names, paths): JSON escapes
// them; the text format keeps each finding on one line.
#include "core/lint/report.h"

#include <fmt/format.h>

#include "core/util/diagnostic.h"

namespace testmap::lint {

std::string to_text(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings)
    out += Diagnostic::one_line(
               fmt::format("{}:{}:{}: {} {}", f.path, f.line, f.col, f.code, f.message)) +
           "\n";
  return out;
}

nlohmann::json to_json(const std::vector<Finding>& findings, size_t files_checked) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : findings) {
    std::string_view rule;
    for (const auto& r : rule_infos())
      if (r.code == f.code) rule = r.name;
    list.push_back({{"path", f.path},
                    {"line", f.line},
                    {"col", f.col},
                    {"code", f.code},
                    {"rule", rule},
                    {"message", f.message}});
  }
  return {{"files_checked", files_checked}, {"findings", list}};
}

nlohmann::json to_sarif(const std::vector<Finding>& findings, const std::string& version) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& r : rule_infos())
    rules.push_back(
        {{"id", r.code}, {"name", r.name}, {"shortDescription", {{"text", r.summary}}}});
  nlohmann::json results = nlohmann::json::array();
  for (const auto& f : findings) {
    int index = 0;
    for (const auto& r : rule_infos()) {
      if (r.code == f.code) break;
      ++index;
    }
    results.push_back({{"ruleId", f.code},
                       {"ruleIndex", index},
                       {"level", f.code == "TM001" ? "error" : "warning"},
                       {"message", {{"text", f.message}}},
                       {"locations",
                        {{{"physicalLocation",
                           {{"artifactLocation", {{"uri", f.path}, {"uriBaseId", "%SRCROOT%"}}},
                            {"region", {{"startLine", f.line}, {"startColumn", f.col}}}}}}}}});
  }
  return {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool", {{"driver", {{"name", "testmap lint"}, {"version", version}, {"rules", rules}}}}},
         {"results", results}}}}};
}

}  // namespace testmap::lint
