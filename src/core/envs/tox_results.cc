// Reading tox's result JSON.
#include "core/envs/tox_results.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace testmap::envs {

bool is_tox_results(const std::string& text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return false;
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("testenvs");
}

bool read_tox_results(const std::string& text, const std::string& file,
                      std::vector<EnvDuration>* out, Diagnostic* error) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("testenvs") || !j["testenvs"].is_object()) {
    *error = {file, 0, "testenvs", "not tox's result JSON (tox --result-json FILE)"};
    return false;
  }
  for (const auto& [name, env] : j["testenvs"].items()) {
    if (!env.is_object() || !env.contains("result") || !env["result"].is_object()) continue;
    const auto& r = env["result"];
    // Values of another type than tox writes are read as false, never thrown on.
    auto flag = [&](const char* key) {
      auto it = r.find(key);
      return it != r.end() && it->is_boolean() && it->get<bool>();
    };
    if (flag("skipped")) continue;
    auto d = r.find("duration");
    if (d == r.end() || !d->is_number() || !std::isfinite(d->get<double>()) || d->get<double>() < 0)
      continue;
    out->emplace_back(name, d->get<double>(), flag("success"));
  }
  return true;
}

}  // namespace testmap::envs
