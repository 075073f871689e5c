// Glob tests: the patterns users write in `paths` and pytest's name options.
#include <doctest/doctest.h>

#include "core/util/glob.h"

using testmap::glob_match;
using testmap::pytest_name_match;

TEST_CASE("** spans directories, * stays within one") {
  CHECK(glob_match("tests/snuba/**", "tests/snuba/a/test_x.py"));
  CHECK(glob_match("tests/**/test_*.py", "tests/test_a.py"));
  CHECK(glob_match("tests/**/test_*.py", "tests/a/b/test_a.py"));
  CHECK_FALSE(glob_match("tests/*.py", "tests/a/test_a.py"));
  CHECK(glob_match("tests/integration", "tests/integration/x/test_a.py"));
  CHECK_FALSE(glob_match("tests/integ", "tests/integration/test_a.py"));
  CHECK(glob_match("src/[ab]*.py", "src/b1.py"));
}

TEST_CASE("pytest names: plain patterns are prefixes for classes and functions") {
  CHECK(pytest_name_match("Test", "TestCart", true));
  CHECK_FALSE(pytest_name_match("Test", "CartTest", true));
  CHECK(pytest_name_match("*Tests", "CartTests", true));
  CHECK(pytest_name_match("test_*.py", "test_a.py", false));
  CHECK_FALSE(pytest_name_match("test_*.py", "a_test.py", false));
}
