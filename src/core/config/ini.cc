// INI parsing as Python's iniconfig does it for pytest: continuation lines join
// the previous value with a newline.
#include "core/config/ini.h"

namespace testmap::config {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

IniFile parse_ini(std::string_view text) {
  IniFile file;
  IniSection* section = nullptr;
  IniValue* last = nullptr;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    std::string_view t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    bool indented = line[0] == ' ' || line[0] == '\t';
    if (indented && last) {
      if (!last->value.empty()) last->value += '\n';
      last->value += t;
      continue;
    }
    if (t.front() == '[' && t.back() == ']') {
      section = &file[std::string(trim(t.substr(1, t.size() - 2)))];
      last = nullptr;
      continue;
    }
    size_t eq = t.find_first_of("=:");
    if (!section || eq == std::string_view::npos) continue;
    IniValue& v = (*section)[std::string(trim(t.substr(0, eq)))];
    v.value = std::string(trim(t.substr(eq + 1)));
    v.line = line_no;
    last = &v;
  }
  return file;
}

}  // namespace testmap::config
