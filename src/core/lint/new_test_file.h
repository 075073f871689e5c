// TM106: a test file added while the test file of the module it tests already exists
// (the mirror rules of [tool.testmap.where], docs/where.md).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/classify/project.h"
#include "core/config/config.h"
#include "core/lint/checks.h"
#include "core/lint/finding.h"

namespace testmap::lint {

// `added`: root-relative files new against the base. A new test file's module is its own
// mirror source when that exists, else the one project module it imports whose mirror test
// file exists (several such modules: no finding, it tests more than one).
std::vector<Finding> check_new_test_files(const config::Config& cfg,
                                          const classify::Project& project, const Scope& scope,
                                          const std::set<std::string>& added);

}  // namespace testmap::lint
