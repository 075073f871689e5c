// Glob matching with `**`; iterative over the pattern, backtracking only on stars.
#include "core/util/glob.h"

#include <fnmatch.h>

#include <string>

namespace testmap {
namespace {

bool match_class(std::string_view p, size_t& i, char c) {
  size_t j = i + 1;
  bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
  if (negate) ++j;
  bool found = false;
  size_t start = j;
  for (; j < p.size() && (p[j] != ']' || j == start); ++j) {
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      if (c >= p[j] && c <= p[j + 2]) found = true;
      j += 2;
    } else if (p[j] == c) {
      found = true;
    }
  }
  i = j;  // at ']'
  return found != negate;
}

bool match(std::string_view p, std::string_view s) {
  if (p.empty()) return s.empty();
  if (p.starts_with("**")) {
    std::string_view rest = p.substr(2);
    if (rest.starts_with("/")) {
      std::string_view after = rest.substr(1);
      if (match(after, s)) return true;  // zero segments
      for (size_t k = 0; k < s.size(); ++k)
        if (s[k] == '/' && match(after, s.substr(k + 1))) return true;
      return false;
    }
    for (size_t k = 0; k <= s.size(); ++k)
      if (match(rest, s.substr(k))) return true;
    return false;
  }
  char c = p[0];
  if (c == '*') {
    for (size_t k = 0; k <= s.size(); ++k) {
      if (match(p.substr(1), s.substr(k))) return true;
      if (k < s.size() && s[k] == '/') break;
    }
    return false;
  }
  if (s.empty()) return false;
  if (c == '?') return s[0] != '/' && match(p.substr(1), s.substr(1));
  if (c == '[') {
    size_t i = 0;
    if (p.find(']', 1) == std::string_view::npos)
      return s[0] == '[' && match(p.substr(1), s.substr(1));
    if (!match_class(p, i, s[0])) return false;
    return match(p.substr(i + 1), s.substr(1));
  }
  return c == s[0] && match(p.substr(1), s.substr(1));
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  // A pattern ending in '/' or naming a directory matches everything below it.
  if (match(pattern, path)) return true;
  if (!pattern.empty() && pattern.back() != '*') {
    std::string dir(pattern);
    if (dir.back() != '/') dir += '/';
    return path.starts_with(dir) || match(dir + "**", path);
  }
  return false;
}

bool pytest_name_match(std::string_view pattern, std::string_view name, bool prefix_if_plain) {
  bool has_glob = pattern.find_first_of("*?[") != std::string_view::npos;
  if (!has_glob && prefix_if_plain) return name.starts_with(pattern);
  return fnmatch(std::string(pattern).c_str(), std::string(name).c_str(), 0) == 0;
}

}  // namespace testmap
