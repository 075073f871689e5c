// Running git without a shell: the history questions of `testmap affected --base`.
#pragma once

#include <string>
#include <vector>

namespace testmap::util {

struct GitResult {
  bool ran = false;  // false: git could not be started (not installed)
  int status = -1;   // its exit status
  std::string out;   // stdout, bytes as they are
  std::string err;   // the first line of stderr
};

// `git -C dir args...`, with stdin closed; waits for it.
GitResult git(const std::string& dir, const std::vector<std::string>& args);

// NUL-separated output (`-z`) as a list.
std::vector<std::string> split_nul(const std::string& out);

}  // namespace testmap::util
