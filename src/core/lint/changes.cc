// git's answers for --diff and TM106. Paths come back relative to the root (`--relative`
// with `git -C root`), as the rest of testmap names files.
#include "core/lint/changes.h"

#include <fmt/format.h>

#include <cstdlib>
#include <sstream>

#include "core/util/git.h"

namespace testmap::lint {

bool Changes::changed(const std::string& path, int line) const {
  if (added.count(path)) return true;
  auto it = lines.find(path);
  if (it == lines.end()) return false;
  for (const auto& [first, last] : it->second)
    if (line >= first && line <= last) return true;
  return false;
}

std::map<std::string, std::vector<std::pair<int, int>>> parse_unified_zero(
    const std::string& diff) {
  std::map<std::string, std::vector<std::pair<int, int>>> out;
  std::istringstream in(diff);
  std::string line, file;
  while (std::getline(in, line)) {
    if (line.starts_with("+++ ")) {
      // "+++ b/path", or "+++ /dev/null" for a deleted file (no lines of it are left).
      file = line.starts_with("+++ b/") ? line.substr(6) : "";
      continue;
    }
    if (file.empty() || !line.starts_with("@@ ")) continue;
    size_t plus = line.find(" +");
    if (plus == std::string::npos) continue;
    const char* p = line.c_str() + plus + 2;
    char* end = nullptr;
    long first = std::strtol(p, &end, 10);
    long count = 1;
    if (end && *end == ',') count = std::strtol(end + 1, nullptr, 10);
    if (count > 0)
      out[file].emplace_back(static_cast<int>(first), static_cast<int>(first + count - 1));
  }
  return out;
}

bool changes_since(const std::string& root, const std::string& base, Changes* out,
                   std::string* error) {
  auto run = [&](const std::vector<std::string>& args, std::string* text) {
    util::GitResult r = util::git(root, args);
    if (!r.ran) {
      *error = "git is not installed";
      return false;
    }
    if (r.status != 0) {
      *error = fmt::format("git {} failed: {}", args.front(), r.err);
      return false;
    }
    *text = std::move(r.out);
    return true;
  };
  std::string text;
  if (!run({"rev-parse", "--verify", "--quiet", base + "^{commit}"}, &text)) {
    *error = fmt::format("--base {}: not a commit in the repository at {}", base, root);
    return false;
  }
  if (!run({"diff", "--name-only", "--diff-filter=A", "--relative", "-z", base, "--", "."}, &text))
    return false;
  for (auto& p : util::split_nul(text)) out->added.insert(std::move(p));
  if (!run({"ls-files", "--others", "--exclude-standard", "-z", "--", "."}, &text)) return false;
  for (auto& p : util::split_nul(text)) out->added.insert(std::move(p));
  if (!run({"diff", "-U0", "--no-color", "--no-ext-diff", "--relative", base, "--", "."}, &text))
    return false;
  out->lines = parse_unified_zero(text);
  return true;
}

}  // namespace testmap::lint
