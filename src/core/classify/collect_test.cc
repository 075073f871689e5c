// Test collection over in-memory projects: what pytest would collect, no more, no less.
#include <doctest/doctest.h>

#include <map>

#include "core/classify/collect.h"
#include "core/scan/scanner.h"

using namespace testmap::classify;

namespace {

std::vector<std::string> collected(const std::map<std::string, std::string>& files) {
  Project p;
  for (const auto& [rel, src] : files) {
    SourceFile f;
    f.rel = rel;
    f.outline = testmap::scan::scan_source(src, rel);
    p.files.push_back(std::move(f));
  }
  testmap::config::Config cfg;
  index_modules(p, cfg);
  Resolver r(p);
  std::vector<std::string> ids;
  for (const auto& t : collect_tests(cfg, p, r)) {
    std::string id = p.files[t.file].rel;
    for (const auto& c : t.class_path) id += "::" + c;
    id += "::" + p.files[t.func_file].outline.functions[t.func].name;
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

TEST_CASE("a TestCase subclass is collected whatever its name, also through an alias") {
  auto ids =
      collected({{"test_a.py",
                  "import unittest\nTC = unittest.TestCase\n"
                  "class Checks(TC):\n    def test_x(self): pass\n    def helper(self): pass\n"
                  "class Other:\n    def test_y(self): pass\n"}});
  CHECK(ids == std::vector<std::string>{"test_a.py::Checks::test_x"});
}

TEST_CASE("a vendored unittest in the tree still marks TestCase subclasses") {
  auto ids = collected({
      {"unittest/__init__.py", "from .case import TestCase\n"},
      {"unittest/case.py", "class TestCase:\n    def run(self): pass\n"},
      {"test_b.py",
       "import unittest\nclass Checks(unittest.TestCase):\n    def test_x(self): pass\n"},
  });
  CHECK(ids == std::vector<std::string>{"test_b.py::Checks::test_x"});
}

TEST_CASE("a class with a base testmap cannot follow keeps its test methods") {
  // unittest's IsolatedAsyncioTestCase comes from a module __getattr__: not visible.
  auto ids = collected({
      {"lib/__init__.py", "def __getattr__(name): ...\n"},
      {"test_c.py", "import lib\nclass Locks(lib.AsyncCase):\n    def test_x(self): pass\n"},
  });
  CHECK(ids == std::vector<std::string>{"test_c.py::Locks::test_x"});
}

TEST_CASE("__test__ = False hides a class and its subclasses until one sets it back") {
  auto ids = collected({{"test_d.py",
                         "class TestBase:\n    __test__ = False\n    def test_x(self): pass\n"
                         "class TestChild(TestBase): pass\n"
                         "class TestOn(TestBase):\n    __test__ = True\n"}});
  CHECK(ids == std::vector<std::string>{"test_d.py::TestOn::test_x"});
}
