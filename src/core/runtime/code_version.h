// Which code a run tested: the commit, and the tracked changes on top of it. Two runs with
// the same version ran the same code, so a test whose outcome differs between them is flaky
// (`testmap flaky`, docs/flaky.md).
#pragma once

#include <string>

namespace testmap::runtime {

// "<HEAD sha>" for a clean tree, "<HEAD sha>+<xxh3 of `git diff HEAD`>" with tracked
// changes, "" outside git. Untracked files are not counted (a new test file changes what
// is collected, not what an existing test runs).
std::string code_version(const std::string& root);

}  // namespace testmap::runtime
