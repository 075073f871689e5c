// git, run without a shell: the history questions of `testmap affected`.
#include "core/util/git.h"

#include "core/util/capture.h"

namespace testmap::util {

GitResult git(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"git", "-C", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  Captured c = capture("", argv);
  return {c.ran, c.status, std::move(c.out), c.err.substr(0, c.err.find('\n'))};
}

std::vector<std::string> split_nul(const std::string& out) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i] == '\0') {
      if (i > start) parts.push_back(out.substr(start, i - start));
      start = i + 1;
    }
  if (start < out.size()) parts.push_back(out.substr(start));
  return parts;
}

}  // namespace testmap::util
