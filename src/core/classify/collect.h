// Finds tests the way pytest collects them: test files by python_files and
// testpaths, classes by python_classes or as unittest.TestCase subclasses (own or
// imported into the module), methods inherited across files, nested test classes.
#pragma once

#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/classify/project.h"
#include "core/classify/resolver.h"

namespace testmap::classify {

struct TestItem {
  int file = -1;                        // the test module
  std::vector<std::string> class_path;  // names as pytest prints them, outer first
  std::vector<std::pair<int, int>>
      classes;                             // MRO of the innermost class (file, class), itself first
  std::vector<std::pair<int, int>> outer;  // enclosing test classes, innermost last
  int func_file = -1;                      // where the function is defined (a base in another file)
  int func = -1;
  bool unittest = false;
};

bool is_test_file(const config::PytestOptions& opts, const std::string& rel);

// `opts` with the `collect_ignore` and `collect_ignore_glob` lists of every conftest.py
// (list literals of strings, relative to the conftest's directory) added to --ignore
// and --ignore-glob, as pytest applies them.
config::PytestOptions with_conftest_ignores(const config::PytestOptions& opts,
                                            const Project& project);

// Test files pytest cannot import side by side with --import-mode=prepend or append (its
// default): two files with one module name, each in a directory without __init__.py up
// to it ("import file mismatch"). One diagnostic per file after the first; none with
// --import-mode=importlib.
// `test_files`: the files pytest collects (indexes into project.files).
Diagnostics import_conflicts(const config::PytestOptions& opts, const Project& project,
                             const std::unordered_set<int>& test_files);

std::vector<TestItem> collect_tests(const config::Config& cfg, const Project& project,
                                    Resolver& resolver);

}  // namespace testmap::classify
