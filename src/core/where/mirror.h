// Where a source file's tests live, and the reverse: the mirror rules of
// `[tool.testmap.where]` (`testmap where`, docs/where.md).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace testmap::where {

// A rule pairs a source pattern with a test pattern. `{dir}` stands for any number of
// directories (none too: "src/{dir}/{name}.py" matches "src/app.py"), `{name}` for one
// file or directory name; each appears at most once in a pattern, and what the source
// pattern's placeholders matched fills the test pattern's.
struct Rule {
  std::string source, test;
};

// src/{dir}/{name}.py -> tests/{dir}/test_{name}.py
std::vector<Rule> default_rules();

// "" when `pattern` is usable, else why not (an unknown or repeated placeholder).
std::string check_pattern(const std::string& pattern);

// "" when both sides use the same placeholders (each side is filled from the other), else
// which one is missing where.
std::string check_pair(const std::string& source, const std::string& test);

struct Mirror {
  std::string path;  // root-relative, '/'-separated
  size_t rule = 0;   // index of the rule that gave it
};

// The mirror of `path` (root-relative) by the first rule whose `from` side matches it:
// the test file of a source file, or with `to_source` the source files of a test file
// (every rule that maps there, in order: impl.py and service.py can share one test file).
std::vector<Mirror> mirrors(const std::vector<Rule>& rules, const std::string& path,
                            bool to_source);

}  // namespace testmap::where
