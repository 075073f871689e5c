// [tool.testmap.lint]: the test conventions `testmap lint` checks (docs/lint.md). Parsed
// and checked with the rest of the config; the checks themselves are in core/lint/.
#pragma once

#include <string>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::config {

// A rule without `paths` applies to the test code (the files pytest collects and the
// conftest.py files); with `paths` (root-relative globs), to every Python file they match.
struct BannedCall {
  std::string pattern;  // a dotted-name glob: "*.objects.create"
  std::string message;
  std::vector<std::string> paths;
};

struct ForbidInside {
  std::string with;                // the context manager's dotted-name glob
  std::vector<std::string> calls;  // the calls not allowed inside its block
  std::string message;
  std::vector<std::string> paths;
};

struct ForbidImports {
  std::string path;                  // the files: a root-relative glob
  std::vector<std::string> imports;  // dotted-name globs: "__future__.annotations"
  std::string message;
};

struct BaseClasses {
  std::string path;                // the files: a root-relative glob
  std::vector<std::string> bases;  // a test class there derives from one of these
  std::string message;
};

struct CostlyBase {
  std::string base;                  // the slow base class: "TransactionTestCase"
  std::vector<std::string> reasons;  // calls that show a test needs it
  // The cheaper bases a test should use instead; a class that reaches one of them before
  // the costly base (Django's TestCase derives from TransactionTestCase) is not reported.
  std::vector<std::string> instead;
  std::string message;
  std::vector<std::string> paths;
};

struct LintRules {
  std::vector<BannedCall> banned_calls;
  std::vector<ForbidInside> forbid_inside;
  std::vector<ForbidImports> forbid_imports;
  std::vector<BaseClasses> base_classes;
  std::vector<CostlyBase> costly_bases;
  bool new_test_file = false;  // a new test file while its module's test file exists
  bool any() const {
    return !banned_calls.empty() || !forbid_inside.empty() || !forbid_imports.empty() ||
           !base_classes.empty() || !costly_bases.empty() || new_test_file;
  }
};

// The calls that show a test needs a costly base, when its rule lists none.
std::vector<std::string> default_costly_reasons();

}  // namespace testmap::config
