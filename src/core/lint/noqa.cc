// Reading `# noqa` comments: only the files with findings are read, once each.
#include "core/lint/noqa.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <sstream>

#include "core/scan/scanner.h"

namespace testmap::lint {

bool noqa_silences(std::string_view text, std::string_view code) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t at = lower.find("# noqa");
  if (at == std::string::npos) at = lower.find("#noqa");
  if (at == std::string::npos) return false;
  std::string_view rest = std::string_view(text).substr(lower.find("noqa", at) + 4);
  size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  if (i >= rest.size() || rest[i] != ':') return true;  // bare: every code
  ++i;
  // Codes separated by commas or spaces, up to whatever is not a code.
  for (;;) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
    size_t start = i;
    while (i < rest.size() && std::isalnum(static_cast<unsigned char>(rest[i]))) ++i;
    if (i == start) return false;
    std::string_view c = rest.substr(start, i - start);
    if (c.size() == code.size() && std::equal(c.begin(), c.end(), code.begin(), [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        }))
      return true;
  }
}

void drop_silenced(std::vector<Finding>& findings, const std::string& root) {
  std::map<std::string, std::vector<std::string>> lines;
  for (const auto& f : findings) {
    if (lines.count(f.path)) continue;
    std::string bytes;
    auto& v = lines[f.path];
    if (!scan::read_file(root + "/" + f.path, &bytes)) continue;
    std::istringstream in(bytes);
    for (std::string l; std::getline(in, l);) v.push_back(std::move(l));
  }
  std::erase_if(findings, [&](const Finding& f) {
    const auto& v = lines[f.path];
    return f.line >= 1 && static_cast<size_t>(f.line) <= v.size() &&
           noqa_silences(v[f.line - 1], f.code);
  });
}

}  // namespace testmap::lint
