// INI reading as pytest's ini files need it.
#include <doctest/doctest.h>

#include "core/config/ini.h"

TEST_CASE("sections, continuation lines and comments") {
  auto ini = testmap::config::parse_ini(
      "# c\n[pytest]\ntestpaths =\n    tests\n    more\npython_files = check_*.py\n; "
      "x\n[other]\na: b\n");
  CHECK(ini["pytest"]["testpaths"].value == "tests\nmore");
  CHECK(ini["pytest"]["python_files"].value == "check_*.py");
  CHECK(ini["pytest"]["python_files"].line == 6);
  CHECK(ini["other"]["a"].value == "b");
}
