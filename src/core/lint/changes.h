// What changed in the working tree against a base commit, from git: the files added (for
// TM106) and the lines changed (for `testmap lint --diff`).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace testmap::lint {

struct Changes {
  std::set<std::string> added;  // root-relative: added since `base`, or untracked
  // Per root-relative file, the line ranges (first, last) it has now that differ from
  // `base`; an added file is in `added` instead, every line of it changed.
  std::map<std::string, std::vector<std::pair<int, int>>> lines;
  bool changed(const std::string& path, int line) const;
};

// The changes of the working tree under `root` against `base` (a commit-ish). False with
// *error when git cannot answer (not a repository, an unknown base).
bool changes_since(const std::string& root, const std::string& base, Changes* out,
                   std::string* error);

// The `+first,count` ranges of `git diff -U0` output, per file ("+++ b/path"); exposed for
// its unit test.
std::map<std::string, std::vector<std::pair<int, int>>> parse_unified_zero(const std::string& diff);

}  // namespace testmap::lint
