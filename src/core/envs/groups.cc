// Each tox environment's tests and services from the test map, and its job.
#include "core/envs/groups.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include "core/classify/classifier.h"
#include "core/config/config.h"
#include "core/envs/nox.h"
#include "core/store/store.h"

namespace testmap::envs {
namespace {

// A group's Pythons and services, from its environments.
void summarize(Group* g) {
  g->pythons.clear();
  std::set<std::string> services;
  auto add = [&](const std::string& p) {
    if (!p.empty() && std::find(g->pythons.begin(), g->pythons.end(), p) == g->pythons.end())
      g->pythons.push_back(p);
  };
  for (const auto& t : g->envs) add(t.env.python);
  // tox builds the package first, with its own Python when the file names one.
  for (const auto& t : g->envs) {
    add(t.env.package_python);
    services.insert(t.services.begin(), t.services.end());
  }
  g->services.assign(services.begin(), services.end());
}

// The groups (indices) of a cycle of `after`, first one again at the end; empty when none.
std::vector<size_t> find_cycle(const std::vector<Group>& groups) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < groups.size(); ++i) index[groups[i].name] = i;
  std::vector<int> state(groups.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<size_t> path, cycle;
  std::function<bool(size_t)> visit = [&](size_t i) {
    if (state[i] == 2) return false;
    if (state[i] == 1) {
      cycle.assign(std::find(path.begin(), path.end(), i), path.end());
      cycle.push_back(i);
      return true;
    }
    state[i] = 1;
    path.push_back(i);
    for (const auto& a : groups[i].after)
      if (visit(index.at(a))) return true;
    path.pop_back();
    state[i] = 2;
    return false;
  };
  for (size_t i = 0; i < groups.size(); ++i)
    if (visit(i)) return cycle;
  return {};
}

// Each group's `after`, in the groups' order.
void set_after(std::vector<Group>* groups) {
  for (auto& g : *groups) {
    g.after.clear();
    for (const auto& h : *groups) {
      if (&h == &g) continue;
      bool waits = false;
      for (const auto& t : g.envs)
        for (const auto& o : h.envs) waits = waits || depends_on(t.env, o.env.name);
      if (waits) g.after.push_back(h.name);
    }
  }
}

// Groups that would wait for each other: the environment that makes a group of the cycle
// wait for the next one gets a group of its own, until no group waits for itself.
bool break_cycles(std::vector<Group>* groups, std::string* error) {
  size_t envs = 0;
  for (const auto& g : *groups) envs += g.envs.size();
  for (size_t round = 0; round <= envs; ++round) {
    set_after(groups);
    std::vector<size_t> cycle = find_cycle(*groups);
    if (cycle.empty()) return true;
    // A group of the cycle with more than its waiting environment: that one moves out.
    Group* g = nullptr;
    std::vector<EnvTests>::iterator waits;
    for (size_t k = 0; k + 1 < cycle.size() && !g; ++k) {
      Group& here = (*groups)[cycle[k]];
      const Group& next = (*groups)[cycle[k + 1]];
      auto it = std::find_if(here.envs.begin(), here.envs.end(), [&](const EnvTests& t) {
        return std::any_of(next.envs.begin(), next.envs.end(),
                           [&](const EnvTests& o) { return depends_on(t.env, o.env.name); });
      });
      if (here.envs.size() > 1 && it != here.envs.end()) {
        g = &here;
        waits = it;
      }
    }
    if (!g) {
      std::vector<std::string> names;
      for (size_t i : cycle) names.push_back((*groups)[i].name);
      *error =
          fmt::format("tox's depends make these wait for each other: {}", fmt::join(names, " -> "));
      return false;
    }
    std::set<std::string> taken;
    for (const auto& other : *groups) taken.insert(other.name);
    Group own;
    own.name = waits->env.name;
    for (int n = 2; taken.count(own.name); ++n) own.name = fmt::format("{}-{}", waits->env.name, n);
    own.envs.push_back(std::move(*waits));
    g->envs.erase(waits);
    summarize(g);
    summarize(&own);
    groups->push_back(std::move(own));  // `g` may move: not used after this
  }
  *error = "tox's depends make groups wait for each other";
  return false;
}

}  // namespace

bool depends_on(const Env& e, const std::string& other) {
  for (const auto& pattern : e.depends)
    if (pattern == other || fnmatch(pattern.c_str(), other.c_str(), 0) == 0) return true;
  return false;
}

bool link_after(std::vector<Group>* groups, std::string* error) {
  set_after(groups);
  std::vector<size_t> cycle = find_cycle(*groups);
  if (cycle.empty()) return true;
  std::vector<std::string> names;
  for (size_t i : cycle) names.push_back((*groups)[i].name);
  *error = fmt::format("tox's depends make these jobs wait for each other: {}",
                       fmt::join(names, " -> "));
  return false;
}

std::vector<std::string> after_notes(const std::vector<Group>& groups) {
  std::vector<std::string> out;
  for (const auto& g : groups)
    if (!g.after.empty())
      out.push_back(fmt::format(
          "job {} runs after {} (depends): files their environments write, such as coverage "
          "data, reach it only if their jobs upload them",
          g.name, fmt::join(g.after, ", ")));
  return out;
}

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
    t.paths = pytest_paths(e, root, &t.runs_pytest, &t.unread, cfg.runs_no_tests);
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
    (*out)[it->second].envs.push_back(std::move(t));
  }
  for (auto& g : *out) summarize(&g);  // each group's Pythons and services, from its envs
  return break_cycles(out, error);
}

}  // namespace testmap::envs
