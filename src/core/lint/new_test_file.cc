// TM106. A mirror test file that is itself new does not count: two new files are a new
// module's tests, split or not.
#include "core/lint/new_test_file.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/classify/collect.h"
#include "core/where/mirror.h"

namespace testmap::lint {

std::vector<Finding> check_new_test_files(const config::Config& cfg,
                                          const classify::Project& project, const Scope& scope,
                                          const std::set<std::string>& added) {
  std::vector<where::Rule> rules;
  for (const auto& [source, test] : cfg.where_rules) rules.push_back({source, test});
  if (rules.empty()) rules = where::default_rules();
  auto exists = [&](const std::string& rel) {
    std::error_code ec;
    return std::filesystem::is_regular_file(std::filesystem::path(cfg.root) / rel, ec);
  };
  // The existing, not new, test file of source `rel` other than `self`; "" when none.
  auto home_of = [&](const std::string& rel, const std::string& self) {
    for (const auto& m : where::mirrors(rules, rel, false))
      if (m.path != self && !added.count(m.path) && exists(m.path)) return m.path;
    return std::string();
  };

  std::vector<Finding> out;
  for (const auto& rel : added) {
    auto it = project.by_rel.find(rel);
    if (it == project.by_rel.end()) continue;
    int file = it->second;
    if (!scope.lint[file] || project.files[file].is_conftest ||
        !classify::is_test_file(cfg.pytest, rel))
      continue;
    std::string source, home;
    for (const auto& m : where::mirrors(rules, rel, true))
      if (source.empty() && exists(m.path)) source = m.path;
    if (!source.empty()) {
      home = home_of(source, rel);
    } else {
      std::set<std::pair<std::string, std::string>> homes;  // (home, source)
      const auto& f = project.files[file];
      for (const auto& imp : f.outline.imports) {
        if (imp.in_function || imp.type_checking) continue;
        std::string module =
            imp.level > 0 ? classify::absolute_module(f, imp.module, imp.level) : imp.module;
        // `from pkg import mod` imports the module pkg.mod when there is one.
        int target = imp.has_name() ? project.module_file(module + "." + imp.name) : -1;
        if (target < 0) target = project.module_file(module);
        if (target < 0 || target == file || scope.test[target] || project.files[target].is_init)
          continue;
        std::string h = home_of(project.files[target].rel, rel);
        if (!h.empty()) homes.emplace(h, project.files[target].rel);
      }
      std::set<std::string> distinct;
      for (const auto& [h, s] : homes) distinct.insert(h);
      if (distinct.size() == 1) home = *distinct.begin(), source = homes.begin()->second;
    }
    if (home.empty()) continue;
    out.push_back(
        {rel, 1, 1, "TM106",
         fmt::format("new test file for {}: its tests belong in {}, which exists", source, home)});
  }
  return out;
}

}  // namespace testmap::lint
