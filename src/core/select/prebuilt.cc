// Selecting the tests that used an object built before them, when what built it changed.
#include "core/select/prebuilt.h"

#include <algorithm>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

#include "core/select/units.h"
#include "core/store/unit_key.h"

namespace testmap::select {
namespace {

// The method `name` of `o`, as the index of its class; -1 when `name` is not a method.
int class_of_method(const scan::Outline& o, const std::string& name) {
  for (const auto& fn : o.functions)
    if (fn.qualname == name && fn.parent_class >= 0 && !fn.in_function)
      return o.classes[fn.parent_class].in_function ? -1 : fn.parent_class;
  return -1;
}

}  // namespace

Prebuilt::Prebuilt(const classify::Project& project, classify::Resolver& resolver,
                   const store::DepsSnapshot& snap,
                   const std::function<bool(const store::TestDeps::Unit&)>& changed)
    : project_(project), resolver_(resolver), snap_(snap) {
  // Every function that ran in some recorded test, and the recorded units that changed.
  std::unordered_set<store::UnitKey, store::UnitKeyHash> seen,
      ran;  // ran: hash 0, whatever was recorded
  std::vector<const store::TestDeps::Unit*> changes;
  for (const auto& [id, t] : snap.tests)
    for (const auto& u : t.units) {
      if (u.name.empty() || u.name == kWholeFile || u.name == kDataFile) continue;
      ran.insert({u.file, u.name, 0});
      if (seen.insert({u.file, u.name, u.hash}).second && changed(u)) changes.push_back(&u);
    }
  for (const auto* u : changes) {
    auto f = project.by_rel.find(u->file);
    if (f == project.by_rel.end()) continue;  // a removed file selects its tests already
    const scan::Outline& o = project.files[f->second].outline;
    std::string change = u->file + "::" + u->name;
    // A method that ran on some instance: what it did to the instance outlives the test.
    if (int c = class_of_method(o, u->name); c >= 0) {
      stale_.emplace(class_key(u->file, o.classes[c].qualname), change);
      continue;
    }
    // A function of the module that a method which ran calls by name (`compile_rules`
    // from `Lexer.__init__`): what it returned may be kept in the instance.
    for (const auto& fn : o.functions) {
      if (fn.parent_class < 0 || fn.in_function || o.classes[fn.parent_class].in_function) continue;
      if (!std::binary_search(fn.calls.begin(), fn.calls.end(), u->name)) continue;
      if (!ran.count({u->file, fn.qualname, 0})) continue;
      stale_.emplace(class_key(u->file, o.classes[fn.parent_class].qualname), change);
    }
  }
}

const std::vector<std::string>& Prebuilt::constructors(const std::string& key) {
  auto it = constructors_.find(key);
  if (it != constructors_.end()) return it->second;
  std::vector<std::string>& out = constructors_[key];
  size_t sep = key.find("::");
  auto f = project_.by_rel.find(key.substr(0, sep));
  if (f == project_.by_rel.end()) return out;
  const auto& classes = project_.files[f->second].outline.classes;
  std::string qualname = key.substr(sep + 2);
  for (size_t k = 0; k < classes.size(); ++k) {
    if (classes[k].qualname != qualname || classes[k].in_function) continue;
    std::vector<std::pair<int, int>> lineage{{f->second, static_cast<int>(k)}};
    for (auto fc : resolver_.ancestry(f->second, static_cast<int>(k)).classes)
      lineage.push_back(fc);
    for (auto [file, cls] : lineage) {
      const scan::Outline& o = project_.files[file].outline;
      std::string init = o.classes[cls].qualname + ".__init__";
      for (const auto& fn : o.functions)
        if (fn.qualname == init) {
          out.push_back(project_.files[file].rel + "::" + init);
          break;
        }
    }
    break;
  }
  return out;
}

std::string Prebuilt::why(const store::TestDeps& test) {
  if (stale_.empty()) return "";
  std::unordered_set<std::string> have;  // made only for a test that used a stale class
  for (const auto& u : test.units) {
    auto s = stale_.find(class_key(u.file, u.name));
    if (s == stale_.end()) continue;
    const std::vector<std::string>& built_by = constructors(s->first);
    if (built_by.empty()) continue;
    if (have.empty())
      for (const auto& v : test.units) have.insert(v.file + "::" + v.name);
    if (std::none_of(built_by.begin(), built_by.end(),
                     [&](const std::string& c) { return have.count(c) > 0; }))
      return fmt::format(
          "{} changed, and it used a {} it did not build (kept by an earlier test or at import)",
          s->second, s->first);
    // It built one, but others were built at import: it may have used those too.
    auto run = snap_.runs.find(test.run_id);
    if (run == snap_.runs.end()) continue;
    for (const auto& c : built_by) {
      size_t sep = c.find("::");
      if (run->second.modules.count(import_key(c.substr(0, sep), c.substr(sep + 2))))
        return fmt::format(
            "{} changed, and it used a {}, of which one was built at import (a module-level "
            "instance it may have used, besides its own)",
            s->second, s->first);
    }
  }
  return "";
}

}  // namespace testmap::select
