// Each tox environment's tests and services from the test map, and its job.
#include "core/envs/groups.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/envs/nox.h"
#include "core/store/store.h"

namespace testmap::envs {

bool read_envs(const std::string& root, const std::string& tool, ToxConfig* out,
               Diagnostic* error) {
  if (tool == "tox") return read_tox(root, out, error);
  if (tool == "nox") return read_nox(root, out, error);
  if (read_tox(root, out, error)) return true;
  // A tox configuration that cannot be read is tox's problem to report, not nox's.
  if (!error->message.starts_with("no tox configuration")) return false;
  if (std::filesystem::exists(std::filesystem::path(root) / "noxfile.py"))
    return read_nox(root, out, error);
  error->message += "; no noxfile.py";
  return false;
}

bool plan_envs(const std::string& root, const std::string& tool, const std::string& by,
               std::vector<Group>* out, std::string* error, std::string* used) {
  ToxConfig tox;
  Diagnostic bad;
  if (!read_envs(root, tool, &tox, &bad)) {
    *error = bad.format();
    return false;
  }
  if (used) *used = tox.tool;
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  classify::RuntimeUses runtime;
  if (!store::load_runtime_uses(root, &runtime, error)) return false;
  std::vector<std::string> every;
  for (const auto& svc : cfg.services) every.push_back(svc.name);
  // Environments mostly share their paths: each set is classified once.
  std::map<std::vector<std::string>, EnvTests> by_paths;
  std::map<std::string, size_t> index;
  for (const Env& e : tox.envs) {
    EnvTests t;
    t.env = e;
    t.paths = pytest_paths(e, root, &t.runs_pytest, &t.unread);
    if (t.runs_pytest) {
      auto known = by_paths.find(t.paths);
      if (known == by_paths.end()) {
        classify::Classification c = classify::classify_paths(root, t.paths, 0, &runtime);
        if (!c.unusable.empty()) {
          *error = c.unusable;
          return false;
        }
        EnvTests found;
        std::set<std::string> services;
        for (const auto& test : c.tests) {
          ++found.tests;
          if (test.unknown) ++found.unknown;
          for (const auto& s : test.unknown ? every : test.services) services.insert(s);
        }
        found.services.assign(services.begin(), services.end());
        known = by_paths.emplace(t.paths, std::move(found)).first;
      }
      t.tests = known->second.tests;
      t.unknown = known->second.unknown;
      t.services = t.unread.empty() ? known->second.services : every;
    }
    std::string key = group_key(e, by);
    auto [it, added] = index.emplace(key, out->size());
    if (added) out->push_back({key, {}, {}, {}, 0});
    Group& g = (*out)[it->second];
    if (!e.python.empty() &&
        std::find(g.pythons.begin(), g.pythons.end(), e.python) == g.pythons.end())
      g.pythons.push_back(e.python);
    for (const auto& s : t.services)
      if (std::find(g.services.begin(), g.services.end(), s) == g.services.end())
        g.services.push_back(s);
    g.envs.push_back(std::move(t));
  }
  for (auto& g : *out) std::sort(g.services.begin(), g.services.end());
  return true;
}

}  // namespace testmap::envs
