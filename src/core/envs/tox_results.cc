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

bool is_job_setup(const std::string& text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return false;
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("testmap_job");
}

bool read_job_setup(const std::string& text, const std::string& file, JobSetup* out,
                    Diagnostic* error) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto str = [&](const char* key, std::string* v) {
    auto it = j.is_object() ? j.find(key) : j.end();
    if (!j.is_object() || it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      *error = {file, 0, key, "missing, or not a name (a generated job writes this file)"};
      return false;
    }
    *v = it->get<std::string>();
    return true;
  };
  if (!str("testmap_job", &out->job) || !str("kind", &out->kind)) return false;
  auto s = j.find("setup_seconds");
  if (s == j.end() || !s->is_number() || !std::isfinite(s->get<double>()) || s->get<double>() < 0 ||
      s->get<double>() > 86400) {
    *error = {file, 0, "setup_seconds", "should be seconds, from 0 to a day"};
    return false;
  }
  out->seconds = s->get<double>();
  return true;
}

}  // namespace testmap::envs
