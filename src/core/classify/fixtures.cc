// Builds the fixture index once per classification; lookups are per test.
#include "core/classify/fixtures.h"

#include <algorithm>

namespace testmap::classify {
namespace {

long long scope_key(int file, int cls) {
  return (static_cast<long long>(file) << 32) | static_cast<unsigned>(cls + 1);
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') return s.substr(1, s.size() - 2);
  return "";
}

std::string parent_dir(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

FixtureIndex::FixtureIndex(const config::PytestOptions& opts, const Project& project,
                           Resolver& resolver)
    : project_(project) {
  for (size_t fi = 0; fi < project.files.size(); ++fi) {
    const SourceFile& f = project.files[fi];
    if (f.is_conftest) conftest_by_dir_[parent_dir(f.rel)] = static_cast<int>(fi);
    const auto& o = f.outline;
    for (size_t i = 0; i < o.functions.size(); ++i) {
      const auto& fn = o.functions[i];
      if (fn.in_function) continue;
      for (const auto& d : fn.decorators) {
        if (d.callee.empty()) continue;
        std::string q = resolver.qualify(static_cast<int>(fi), d.callee);
        if (q != "pytest.fixture" && q != "pytest.yield_fixture" && q != "pytest_asyncio.fixture")
          continue;
        FixtureDef def;
        def.name = fn.name;
        def.file = static_cast<int>(fi);
        def.func = static_cast<int>(i);
        def.cls = fn.parent_class;
        for (const auto& [k, v] : d.kwargs) {
          if (k == "name" && !unquote(v).empty()) def.name = unquote(v);
          if (k == "autouse" && v == "True") def.autouse = true;
        }
        by_scope_[scope_key(def.file, def.cls)].push_back(static_cast<int>(defs_.size()));
        defs_.push_back(std::move(def));
        break;
      }
    }
  }
  // pytest_plugins in conftests and test modules, and -p NAME, load plugin modules for the
  // whole session; -p no:NAME keeps one from loading.
  auto load = [&](const std::string& name) {
    if (std::find(opts.blocked_plugins.begin(), opts.blocked_plugins.end(), name) !=
        opts.blocked_plugins.end())
      return;
    int file = project.module_file(name);
    if (file >= 0 &&
        std::find(plugin_files_.begin(), plugin_files_.end(), file) == plugin_files_.end())
      plugin_files_.push_back(file);
  };
  for (const auto& name : opts.plugins) load(name);
  for (size_t fi = 0; fi < project.files.size(); ++fi) {
    for (const auto& a : project.files[fi].outline.assignments) {
      if (a.target != "pytest_plugins" || !a.scope.empty()) continue;
      for (const auto& v : a.values) load(unquote(v.text));
    }
  }
}

std::vector<FixtureScope> FixtureIndex::scopes_for(
    int file, const std::vector<std::pair<int, int>>& classes) const {
  std::vector<FixtureScope> scopes;
  for (const auto& [f, c] : classes) scopes.push_back({f, c});
  scopes.push_back({file, -1});
  std::string dir = parent_dir(project_.files[file].rel);
  for (;;) {
    if (auto it = conftest_by_dir_.find(dir); it != conftest_by_dir_.end() && it->second != file)
      scopes.push_back({it->second, -1});
    if (dir.empty()) break;
    dir = parent_dir(dir);
  }
  for (int p : plugin_files_) scopes.push_back({p, -1});
  return scopes;
}

const std::vector<int>* FixtureIndex::defs_in(const FixtureScope& s) const {
  auto it = by_scope_.find(scope_key(s.file, s.cls));
  return it == by_scope_.end() ? nullptr : &it->second;
}

int FixtureIndex::find(const std::vector<FixtureScope>& scopes, const std::string& name,
                       int after) const {
  bool passed = after < 0;
  for (const auto& s : scopes) {
    const auto* defs = defs_in(s);
    if (!defs) continue;
    // Within one scope the last definition wins, as in a Python namespace.
    for (auto it = defs->rbegin(); it != defs->rend(); ++it) {
      if (defs_[*it].name != name) continue;
      if (passed) return *it;
      if (*it == after) passed = true;
    }
  }
  return -1;
}

std::vector<int> FixtureIndex::autouse(const std::vector<FixtureScope>& scopes) const {
  std::vector<int> out;
  for (const auto& s : scopes)
    if (const auto* defs = defs_in(s))
      for (int d : *defs)
        if (defs_[d].autouse) out.push_back(d);
  return out;
}

std::vector<int> FixtureIndex::broken_files(const std::vector<FixtureScope>& scopes) const {
  std::vector<int> out;
  for (const auto& s : scopes)
    if (s.cls < 0 && !project_.files[s.file].outline.ok() &&
        std::find(out.begin(), out.end(), s.file) == out.end())
      out.push_back(s.file);
  return out;
}

}  // namespace testmap::classify
