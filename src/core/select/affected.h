// Affected-test selection: which tests a change to the working tree can break, from what
// each test ran when it was last recorded (docs/affected.md). Never fewer than needed:
// anything it cannot be sure of selects more, and says why.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace testmap::select {

struct Selection {
  // Set when every test runs: the one reason (no recording, a config file changed...).
  std::string run_all;
  // Per selected test (by the id given), why it runs: the first reasons found.
  std::map<std::string, std::vector<std::string>> why;
  size_t recorded = 0;  // of the ids given, those with a recording
};

// Decides for each of `ids` (node ids without parametrize ids, as `classify` and the
// store spell them) whether it runs. With `base` (a commit), what changed since that commit
// counts too, besides what changed since each test was recorded. False with *error (one
// line) only when the config cannot be read; a store that cannot be read, or a base git
// cannot find, runs everything.
bool select_affected(const std::string& root, const std::vector<std::string>& ids,
                     const std::string& base, Selection* out, std::string* error);

}  // namespace testmap::select
