// Running a command as a child of testmap: it dies with testmap, and Ctrl-C reaches it.
#pragma once

#include <string>
#include <vector>

namespace testmap::cli {

struct ChildOptions {
  std::string cwd;     // where it runs ("" for testmap's own directory)
  std::string output;  // a file for its stdout and stderr ("" to share testmap's)
};

// Runs argv (looked up on PATH) and returns its exit code as a shell would: 128 + the
// signal that killed it, 127 when it could not be run.
int run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

}  // namespace testmap::cli
