// Reading the per-worker JSON lines of a recorded run.
#include "core/runtime/results.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace testmap::runtime {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

using Defs = std::unordered_map<long long, std::pair<std::string, std::string>>;

// [[file, qualname], ...] as the tracer gives them, or numbers that `defs` names; false when
// an element is neither (a number no line has defined: that line was lost).
bool code_pairs(const nlohmann::json& j, std::vector<std::pair<std::string, std::string>>* out,
                const Defs& defs = {}) {
  bool whole = true;
  for (const auto& pair : j)
    if (pair.is_number_integer()) {
      auto d = defs.find(pair.get<long long>());
      if (d != defs.end())
        out->push_back(d->second);
      else
        whole = false;
    } else if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
      out->emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    } else {
      whole = false;
    }
  return whole;
}

// A line's "defs": [id, file, qualname] each.
void add_defs(const nlohmann::json& j, Defs* defs) {
  for (const auto& d : j)
    if (d.is_array() && d.size() == 3 && d[0].is_number_integer() && d[1].is_string() &&
        d[2].is_string())
      (*defs)[d[0].get<long long>()] = {d[1].get<std::string>(), d[2].get<std::string>()};
}

}  // namespace

std::vector<TestRecord> read_results(const std::string& dir, Diagnostics* diagnostics) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".jsonl") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  std::vector<TestRecord> out;
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int position = 0;  // the file's tests in the order its process ran them
    // The numbers each writer ("w") gave code in this file, so far: a pytest a test
    // started, or a forked child, may have appended lines with numbers of its own.
    std::unordered_map<std::string, Defs> defs_by_writer;
    for (int n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("nodeid") || !j["nodeid"].is_string()) {
        diagnostics->push_back({path.string(), n, "", "not a test record (cut short?): skipped"});
        continue;
      }
      TestRecord r;
      r.nodeid = j["nodeid"].get<std::string>();
      if (auto o = j.find("outcome"); o != j.end() && o->is_string()) r.outcome = *o;
      if (auto d = j.find("duration"); d != j.end() && d->is_number()) {
        double v = d->get<double>();
        if (std::isfinite(v) && v >= 0)
          r.duration = v;
        else
          diagnostics->push_back({path.string(), n, r.nodeid,
                                  fmt::format("duration {} is not a number of seconds: "
                                              "stored as 0",
                                              d->dump())});
      }
      r.has_phases = j.contains("phases") && j["phases"].is_object();
      if (auto p = j.find("phases"); p != j.end() && p->is_object())
        for (const auto& [name, phase] : p->items()) {
          if (!phase.is_object()) continue;
          PhaseRecord& pr = r.phases[name];
          pr = {strings(phase, "services"), strings(phase, "shared"), strings(phase, "external")};
          if (auto f = phase.find("fixtures"); f != phase.end() && f->is_object())
            for (const auto& [service, names] : f->items())
              pr.fixtures[service] = strings(*f, service.c_str());
        }
      r.refused = strings(j, "refused");
      std::string writer;
      if (auto w = j.find("w"); w != j.end() && w->is_string()) writer = w->get<std::string>();
      Defs& defs = defs_by_writer[writer];
      if (auto d = j.find("defs"); d != j.end() && d->is_array()) add_defs(*d, &defs);
      if (auto d = j.find("deps"); d != j.end() && d->is_array())
        r.has_deps = code_pairs(*d, &r.deps, defs);  // a line it cannot read whole records none
      r.worker = path.stem().string();
      r.position = position++;
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> read_outside(const std::string& dir,
                                                              Diagnostics* diagnostics) {
  std::vector<std::pair<std::string, std::string>> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("outside-") || !name.ends_with(".json")) continue;
    std::ifstream in(it->path());
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!j.is_array() || !code_pairs(j, &out))
      diagnostics->push_back(
          {it->path().string(), 0, "", "not a list of code units (cut short?): skipped in part"});
  }
  return out;
}

}  // namespace testmap::runtime
