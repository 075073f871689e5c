// One problem `testmap lint` reports, and the codes of its rules (docs/lint.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace testmap::lint {

struct Finding {
  std::string path;  // root-relative, '/'-separated
  int line = 0;      // 1-based
  int col = 0;       // 1-based, in bytes, as ruff and flake8 print it
  std::string code;  // "TM101"
  std::string message;
};

struct RuleInfo {
  std::string_view code, name, summary;
};

// Every rule, in code order: TM001 (a file that does not parse) and one per rule kind.
const std::vector<RuleInfo>& rule_infos();

// The rule kind's code ("banned-calls" -> "TM101").
std::string_view code_of(std::string_view rule_name);

// Sorted by path, line, column and code; duplicates (one position, one code) once.
void sort_findings(std::vector<Finding>& findings);

}  // namespace testmap::lint
