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
// store spell them) whether it runs. False with *error (one line) only when the config
// cannot be read; a store that cannot be read runs everything.
bool select_affected(const std::string& root, const std::vector<std::string>& ids, Selection* out,
                     std::string* error);

}  // namespace testmap::select
