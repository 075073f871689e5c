// `testmap affected --base REF`: the tree as it was at a commit, in the terms a recording
// keeps (module, class and binding hashes, watched files) and as the units that differ.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/classify/project.h"
#include "core/store/store.h"

namespace testmap::select {

struct BaseState {
  std::string run_all;    // set when git cannot answer: every test runs, this is why
  std::string label;      // "REF" as the reasons name it
  store::RunFiles files;  // the states at REF, for the rules that compare states
  // Units ("file" '\0' "unit", see unit_key) that differ between REF and the working tree,
  // each with its reason; a data file's unit is "<data>".
  std::unordered_map<std::string, std::string> units;
  std::vector<std::string> changed_dirs;  // submodules whose commit or content changed
};

// The working tree against REF: every file git reports as changed since REF (committed,
// staged or not, and untracked files), read at REF with `git show`.
BaseState base_state(const classify::Project& project, const std::string& ref,
                     const std::map<std::string, uint64_t>& watched_now);

}  // namespace testmap::select
