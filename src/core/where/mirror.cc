// Matching a path against a mirror pattern and filling the other side.
#include "core/where/mirror.h"

#include <map>

namespace testmap::where {

namespace {

constexpr std::string_view kDir = "{dir}", kName = "{name}";

// Matches `path` against `pattern`, filling `vars`: {dir} tries every prefix (longest
// first, or none with its '/'), {name} every length without a '/'.
bool match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string>* vars) {
  if (pattern.empty()) return path.empty();
  if (pattern.starts_with(kDir)) {
    std::string_view rest = pattern.substr(kDir.size());
    // "{dir}/" may also match nothing at all: "src/{dir}/x.py" matches "src/x.py".
    if (rest.starts_with("/") && match(rest.substr(1), path, vars)) {
      (*vars)["dir"] = "";
      return true;
    }
    for (size_t n = path.size(); n > 0; --n) {
      if (match(rest, path.substr(n), vars)) {
        (*vars)["dir"] = std::string(path.substr(0, n));
        return true;
      }
    }
    return false;
  }
  if (pattern.starts_with(kName)) {
    std::string_view rest = pattern.substr(kName.size());
    for (size_t n = 1; n <= path.size() && path[n - 1] != '/'; ++n)
      if (match(rest, path.substr(n), vars)) {
        (*vars)["name"] = std::string(path.substr(0, n));
        return true;
      }
    return false;
  }
  return !path.empty() && pattern[0] == path[0] && match(pattern.substr(1), path.substr(1), vars);
}

std::string fill(const std::string& pattern, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < pattern.size();) {
    std::string_view at(pattern.data() + i, pattern.size() - i);
    if (at.starts_with(kDir) || at.starts_with(kName)) {
      bool dir = at.starts_with(kDir);
      auto it = vars.find(dir ? "dir" : "name");
      std::string value = it == vars.end() ? "" : it->second;
      i += dir ? kDir.size() : kName.size();
      // An empty {dir} takes its separator with it: tests/{dir}/x -> tests/x.
      if (dir && value.empty() && i < pattern.size() && pattern[i] == '/') ++i;
      out += value;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

}  // namespace

std::vector<Rule> default_rules() {
  return {{"src/{dir}/{name}.py", "tests/{dir}/test_{name}.py"}};
}

std::string check_pattern(const std::string& pattern) {
  for (std::string_view p : {kDir, kName}) {
    size_t first = pattern.find(p);
    if (first != std::string::npos && pattern.find(p, first + 1) != std::string::npos)
      return std::string(p) + " appears twice";
  }
  for (size_t open = pattern.find('{'); open != std::string::npos;
       open = pattern.find('{', open + 1)) {
    std::string_view at(pattern.data() + open, pattern.size() - open);
    if (!at.starts_with(kDir) && !at.starts_with(kName))
      return "unknown placeholder at '" + std::string(at.substr(0, at.find('}') + 1)) +
             "' (known: {dir}, {name})";
  }
  if (pattern.empty() || pattern.starts_with("/")) return "expected a path relative to the root";
  return "";
}

std::string check_pair(const std::string& source, const std::string& test) {
  for (std::string_view p : {kDir, kName}) {
    bool in_source = source.find(p) != std::string::npos;
    bool in_test = test.find(p) != std::string::npos;
    if (in_source != in_test)
      return std::string(p) + " is in the " + (in_source ? "source" : "test") +
             " pattern only: both sides need the same placeholders";
  }
  return "";
}

std::vector<Mirror> mirrors(const std::vector<Rule>& rules, const std::string& path,
                            bool to_source) {
  std::vector<Mirror> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string& from = to_source ? rules[i].test : rules[i].source;
    const std::string& to = to_source ? rules[i].source : rules[i].test;
    std::map<std::string, std::string> vars;
    if (!match(from, path, &vars)) continue;
    out.push_back({fill(to, vars), i});
    if (!to_source) break;  // a source file has one test file: the first rule's
  }
  return out;
}

}  // namespace testmap::where
