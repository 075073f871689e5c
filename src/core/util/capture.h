// Running a program without a shell and reading what it prints: git for `testmap affected`,
// nox for `testmap envs --nox`.
#pragma once

#include <string>
#include <vector>

namespace testmap::util {

struct Captured {
  bool ran = false;  // false: the program could not be started (not installed)
  int status = -1;   // its exit status; 128 when a signal ended it, 126 when `dir` is not there
  std::string out;   // stdout, bytes as they are
  std::string err;   // stderr, all of it
};

// Runs argv (looked up on PATH) in `dir` ("" for ours) with stdin closed; waits for it.
Captured capture(const std::string& dir, const std::vector<std::string>& argv);

}  // namespace testmap::util
