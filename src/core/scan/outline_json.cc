// Outline -> JSON, field names as in docs/outline.md.
#include "core/scan/outline_json.h"

#include <fmt/format.h>

namespace testmap::scan {
namespace {

nlohmann::json texts(const std::vector<Reduced>& items) {
  auto a = nlohmann::json::array();
  for (const auto& r : items) a.push_back(r.text);
  return a;
}

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

}  // namespace

nlohmann::json outline_to_json(const Outline& o) {
  nlohmann::json j;
  j["path"] = o.path;
  j["error"] =
      o.ok() ? nlohmann::json() : nlohmann::json{{"line", o.error_line}, {"message", o.error}};
  auto& imports = j["imports"] = nlohmann::json::array();
  for (const auto& i : o.imports)
    imports.push_back({{"module", i.module},
                       {"name", or_null(i.name)},
                       {"asname", or_null(i.asname)},
                       {"level", i.level},
                       {"line", i.line}});
  auto& classes = j["classes"] = nlohmann::json::array();
  for (const auto& c : o.classes)
    classes.push_back({{"name", c.name},
                       {"qualname", c.qualname},
                       {"bases", texts(c.bases)},
                       {"keywords", c.keywords},
                       {"decorators", texts(c.decorators)},
                       {"line", c.line},
                       {"end_line", c.end_line},
                       {"hash", fmt::format("{:016x}", c.hash)}});
  auto& functions = j["functions"] = nlohmann::json::array();
  for (const auto& f : o.functions)
    functions.push_back({{"name", f.name},
                         {"qualname", f.qualname},
                         {"async", f.is_async},
                         {"params", f.params},
                         {"defaults", f.defaults},
                         {"decorators", texts(f.decorators)},
                         {"calls", f.calls},
                         {"line", f.line},
                         {"end_line", f.end_line},
                         {"hash", fmt::format("{:016x}", f.hash)}});
  auto& assignments = j["assignments"] = nlohmann::json::array();
  for (const auto& a : o.assignments)
    assignments.push_back(
        {{"target", a.target}, {"scope", a.scope}, {"values", texts(a.values)}, {"line", a.line}});
  return j;
}

}  // namespace testmap::scan
