// Running a command as a child of testmap: it dies with testmap, and Ctrl-C reaches it.
#pragma once

#include <sys/types.h>

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

// Starts argv without waiting (it dies with testmap too); -1 when it cannot fork.
pid_t spawn_child(const std::vector<std::string>& argv, const ChildOptions& options = {});
// A wait status as a shell gives it: the exit code, or 128 + the signal.
int exit_code_of(int wait_status);

}  // namespace testmap::cli
