// The rules that read the scanned code: banned calls, calls inside a `with`, imports, test
// classes' bases and costly bases (TM001 to TM105, docs/lint.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/classify/collect.h"
#include "core/classify/project.h"
#include "core/classify/resolver.h"
#include "core/config/config.h"
#include "core/lint/finding.h"

namespace testmap::lint {

// Whether a dotted-name pattern matches `name`: the whole name, or its tail after any dot
// ("assume_test_silo_mode*" matches "app.silo.assume_test_silo_mode"). `*` spans dots.
bool name_matches(std::string_view pattern, std::string_view name);

// The path globs the rules name (`paths`, and the path keys of forbid-imports and
// base-classes); with `calls_only`, those of the rules that read call sites.
std::vector<std::string> rule_globs(const config::LintRules& rules, bool calls_only);

struct Scope {
  // Per project file: under the command line's paths, and test code or named by a rule's
  // paths (what some rule reads).
  std::vector<char> lint;
  std::vector<char> test;  // per project file: test code (collected or a conftest.py)
};

// The files to check and which of them are test code. `only`: root-relative files or
// directories; empty for the whole project.
Scope scope_of(const config::Config& cfg, const classify::Project& project,
               const std::vector<std::string>& only);

// Every finding of the code rules. `seconds`: the last recorded seconds by test id (for
// TM105's cost), or null.
std::vector<Finding> check_code(const config::Config& cfg, const classify::Project& project,
                                classify::Resolver& resolver,
                                const std::vector<classify::TestItem>& tests, const Scope& scope,
                                const std::map<std::string, double>* seconds);

}  // namespace testmap::lint
