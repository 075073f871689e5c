// JSON in and out for recorded dependencies; every value is checked on the way in, since
// an import writes straight into the store.
#include "core/select/deps_io.h"

#include <cstdlib>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace testmap::select {
namespace {

constexpr int kFormat = 1;

std::string hex(uint64_t h) {
  return fmt::format("{:016x}", h);
}

bool unhex(const nlohmann::json& v, uint64_t* h) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 16) return false;
  char* end = nullptr;
  *h = std::strtoull(s.c_str(), &end, 16);
  return end == s.c_str() + s.size();
}

bool hashes(const nlohmann::json& obj, std::map<std::string, uint64_t>* out) {
  if (!obj.is_object()) return false;
  for (const auto& [k, v] : obj.items())
    if (!unhex(v, &(*out)[k])) return false;
  return true;
}

}  // namespace

std::string deps_json_text(const store::DepsSnapshot& snap) {
  nlohmann::json runs = nlohmann::json::array();
  std::map<long long, nlohmann::json> tests_of;
  for (const auto& [id, t] : snap.tests) {
    nlohmann::json units = nlohmann::json::array();
    for (const auto& u : t.units) units.push_back({u.file, u.name, hex(u.hash)});
    tests_of[t.run_id].push_back({{"nodeid", t.nodeid}, {"outcome", t.outcome}, {"units", units}});
  }
  for (const auto& [run_id, files] : snap.runs) {
    nlohmann::json modules = nlohmann::json::object(), watched = nlohmann::json::object();
    for (const auto& [k, h] : files.modules) modules[k] = hex(h);
    for (const auto& [k, h] : files.watched) watched[k] = hex(h);
    auto t = tests_of.find(run_id);
    runs.push_back({{"modules", modules},
                    {"watched", watched},
                    {"tests", t == tests_of.end() ? nlohmann::json::array() : t->second}});
  }
  return nlohmann::json{{"testmap_deps", kFormat}, {"runs", runs}}.dump() + "\n";
}

bool parse_deps_json(const std::string& text, std::vector<ImportedRun>* out, std::string* error) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    *error = "not JSON";
    return false;
  }
  if (!doc.is_object() || !doc.contains("testmap_deps") ||
      !doc["testmap_deps"].is_number_integer()) {
    *error = "not a `testmap deps export` file (no \"testmap_deps\" format number)";
    return false;
  }
  if (doc["testmap_deps"].get<int>() != kFormat) {
    *error = fmt::format("format {} is not this testmap's ({}): export it again with this version",
                         doc["testmap_deps"].dump(), kFormat);
    return false;
  }
  if (!doc.contains("runs") || !doc["runs"].is_array()) {
    *error = "\"runs\" is not a list";
    return false;
  }
  for (size_t r = 0; r < doc["runs"].size(); ++r) {
    const auto& run = doc["runs"][r];
    ImportedRun ir;
    std::string where = fmt::format("runs[{}]", r);
    if (!run.is_object() || !hashes(run.value("modules", nlohmann::json()), &ir.files.modules) ||
        !hashes(run.value("watched", nlohmann::json()), &ir.files.watched)) {
      *error = where + ": \"modules\" and \"watched\" must map paths to 16 hex digits";
      return false;
    }
    const auto tests = run.value("tests", nlohmann::json());
    if (!tests.is_array()) {
      *error = where + ".tests is not a list";
      return false;
    }
    for (size_t i = 0; i < tests.size(); ++i) {
      const auto& t = tests[i];
      std::string at = fmt::format("{}.tests[{}]", where, i);
      if (!t.is_object() || !t.contains("nodeid") || !t["nodeid"].is_string() ||
          t["nodeid"].get<std::string>().empty() || !t.contains("outcome") ||
          !t["outcome"].is_string() || !t.contains("units") || !t["units"].is_array()) {
        *error = at + ": needs a \"nodeid\", an \"outcome\" and \"units\"";
        return false;
      }
      store::TestDeps d;
      d.nodeid = t["nodeid"].get<std::string>();
      d.outcome = t["outcome"].get<std::string>();
      for (const auto& u : t["units"]) {
        store::TestDeps::Unit unit;
        if (!u.is_array() || u.size() != 3 || !u[0].is_string() || !u[1].is_string() ||
            !unhex(u[2], &unit.hash)) {
          *error = fmt::format("{} ({}): a unit is [file, name, 16 hex digits]", at, d.nodeid);
          return false;
        }
        unit.file = u[0].get<std::string>();
        unit.name = u[1].get<std::string>();
        d.units.push_back(std::move(unit));
      }
      ir.tests.push_back(std::move(d));
    }
    out->push_back(std::move(ir));
  }
  return true;
}

}  // namespace testmap::select
