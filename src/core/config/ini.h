// The small INI reader pytest's own files need (pytest.ini, tox.ini, setup.cfg):
// sections, `key = value`, indented continuation lines, `#` and `;` comments.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace testmap::config {

struct IniValue {
  std::string value;
  int line = 0;
};
using IniSection = std::map<std::string, IniValue>;
using IniFile = std::map<std::string, IniSection>;

IniFile parse_ini(std::string_view text);

// `s` without the spaces, tabs and carriage returns around it, as INI values are read.
std::string_view trim(std::string_view s);

}  // namespace testmap::config
