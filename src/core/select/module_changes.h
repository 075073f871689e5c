// Which code can observe the module-level changes made since a recording: the rules of
// docs/affected.md, "Module-level code".
#pragma once

#include <set>
#include <string>
#include <unordered_map>

#include "core/classify/project.h"
#include "core/store/store.h"

namespace testmap::select {

struct ModuleChanges {
  // Files every test that ran any of their code (or whose own file it is) must run, each
  // with the reason: their module-level code changed, or they import a module whose code
  // did, directly or not.
  std::unordered_map<std::string, std::string> files;
  // Units ("file" '\0' "unit") that can read a changed simple binding (`LIMIT = 3`): the
  // functions of the defining file, and of the files importing that name or the module,
  // whose text names it, and their code that cannot be named.
  std::unordered_map<std::string, std::string> units;
  // A change that can reach every test, with what it is: a plugin's pytest hook.
  std::string everything;
};

inline std::string unit_key(const std::string& file, const std::string& unit) {
  return file + '\0' + unit;
}

// The module-level changes of `project` since `run` recorded its module states. When the
// run did not record which classes tests met (3.12+), the changed classes
// (`"file::Class"`, top-level) are followed by name as well, as bindings are: a test that
// met a class only inside library code (a SQLAlchemy model that SQLAlchemy builds) still
// ran code that names it.
ModuleChanges module_changes(const classify::Project& project, const store::RunFiles& run,
                             const std::set<std::string>& changed_classes = {});

}  // namespace testmap::select
