// The rule table and the order findings print in.
#include "core/lint/finding.h"

#include <algorithm>
#include <tuple>

namespace testmap::lint {

const std::vector<RuleInfo>& rule_infos() {
  static const std::vector<RuleInfo> kRules = {
      {"TM001", "syntax-error", "a file testmap cannot parse: no rule could check it"},
      {"TM101", "banned-calls", "a call the project bans in test code"},
      {"TM102", "forbid-inside", "a call not allowed inside a `with` block of a context manager"},
      {"TM103", "forbid-imports", "an import not allowed in these files"},
      {"TM104", "base-classes", "a test class that derives from none of the allowed bases"},
      {"TM105", "costly-bases", "a test class on a slow base whose tests show no need for it"},
      {"TM106", "new-test-file", "a new test file while the module's test file exists"},
  };
  return kRules;
}

std::string_view code_of(std::string_view rule_name) {
  for (const auto& r : rule_infos())
    if (r.name == rule_name) return r.code;
  return "";
}

void sort_findings(std::vector<Finding>& findings) {
  auto key = [](const Finding& f) { return std::tie(f.path, f.line, f.col, f.code); };
  std::sort(findings.begin(), findings.end(),
            [&](const Finding& a, const Finding& b) { return key(a) < key(b); });
  findings.erase(std::unique(findings.begin(), findings.end(),
                             [&](const Finding& a, const Finding& b) { return key(a) == key(b); }),
                 findings.end());
}

}  // namespace testmap::lint
