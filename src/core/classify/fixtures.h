// Every pytest fixture defined in the repository and where it is visible from:
// class bodies, test modules, conftest.py files by directory, pytest_plugins modules.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/classify/project.h"
#include "core/classify/resolver.h"

namespace testmap::classify {

struct FixtureDef {
  std::string name;
  int file = -1;
  int func = -1;
  int cls = -1;  // defining class, -1 at module level
  bool autouse = false;
};

// Where a test looks for fixtures, nearest first.
struct FixtureScope {
  int file = -1;
  int cls = -1;  // -1: the module-level fixtures of `file`
};

class FixtureIndex {
 public:
  FixtureIndex(const config::PytestOptions& opts, const Project& project, Resolver& resolver);

  // Scopes visible from a test in `file` whose class MRO is `classes`.
  std::vector<FixtureScope> scopes_for(int file,
                                       const std::vector<std::pair<int, int>>& classes) const;
  // The nearest definition of `name` in `scopes`, skipping definitions up to and
  // including `after` (a fixture that overrides one of the same name); -1 if none.
  int find(const std::vector<FixtureScope>& scopes, const std::string& name, int after = -1) const;
  std::vector<int> autouse(const std::vector<FixtureScope>& scopes) const;

  const FixtureDef& def(int i) const { return defs_[i]; }
  // Files that define fixtures but do not parse: a test that can see them is unknown.
  std::vector<int> broken_files(const std::vector<FixtureScope>& scopes) const;

 private:
  const std::vector<int>* defs_in(const FixtureScope& s) const;

  const Project& project_;
  std::vector<FixtureDef> defs_;
  std::unordered_map<long long, std::vector<int>> by_scope_;  // (file, cls) -> defs
  std::unordered_map<std::string, int> conftest_by_dir_;      // "" for the root
  std::vector<int> plugin_files_;
};

}  // namespace testmap::classify
