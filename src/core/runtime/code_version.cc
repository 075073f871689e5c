// The code version of a run (code_version.h).
#include "core/runtime/code_version.h"

#include <fmt/format.h>
#include <xxhash.h>

#include "core/util/git.h"

namespace testmap::runtime {

std::string code_version(const std::string& root) {
  util::GitResult head = util::git(root, {"rev-parse", "--verify", "-q", "HEAD"});
  std::string sha = head.status == 0 ? head.out.substr(0, head.out.find('\n')) : "";
  if (sha.size() != 40) return "";
  util::GitResult diff = util::git(root, {"diff", "HEAD", "--no-ext-diff", "--binary", "--"});
  if (diff.status != 0) return "";
  if (diff.out.empty()) return sha;
  return fmt::format("{}+{:016x}", sha, XXH3_64bits(diff.out.data(), diff.out.size()));
}

}  // namespace testmap::runtime
