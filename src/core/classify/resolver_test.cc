// Name resolution over an in-memory project: re-exports, aliases, relative and star
// imports, cycles.
#include <doctest/doctest.h>

#include <map>

#include "core/classify/resolver.h"
#include "core/scan/scanner.h"

using namespace testmap::classify;

namespace {

Project make_project(const std::map<std::string, std::string>& files) {
  Project p;
  for (const auto& [rel, src] : files) {
    SourceFile f;
    f.rel = rel;
    f.outline = testmap::scan::scan_source(src, rel);
    p.files.push_back(std::move(f));
  }
  testmap::config::Config cfg;
  index_modules(p, cfg);
  return p;
}

}  // namespace

TEST_CASE("a base class through a re-export and an alias") {
  Project p = make_project({
      {"shop/__init__.py", ""},
      {"shop/testing/__init__.py", "from .cases import DatabaseTestCase\n"},
      {"shop/testing/cases.py",
       "import unittest\nclass DatabaseTestCase(unittest.TestCase):\n    pass\n"},
      {"tests/test_a.py",
       "import shop.testing as t\nfrom shop.testing import DatabaseTestCase as DB\n"
       "class TestA(t.DatabaseTestCase): pass\nclass TestB(DB): pass\n"},
  });
  Resolver r(p);
  int test_file = p.by_rel.at("tests/test_a.py");
  int cases = p.by_rel.at("shop/testing/cases.py");
  Symbol a = r.resolve(test_file, "t.DatabaseTestCase");
  Symbol b = r.resolve(test_file, "DB");
  CHECK(a.kind == Symbol::kClass);
  CHECK(a.file == cases);
  CHECK(b.file == cases);
  const Ancestry& anc = r.ancestry(test_file, 0);
  CHECK(anc.classes.size() == 2);
  CHECK(anc.externals == std::vector<std::string>{"unittest.TestCase"});
  CHECK(r.resolve_qualified("shop.testing.DatabaseTestCase").file == cases);
}

TEST_CASE("star imports and an import cycle") {
  Project p = make_project({
      {"pkg/__init__.py", ""},
      {"pkg/a.py", "from pkg.b import *\nclass A(B): pass\n"},
      {"pkg/b.py", "class B: pass\n"},
      {"pkg/c.py", "from pkg.d import X\n"},
      {"pkg/d.py", "from pkg.c import X\n"},
  });
  Resolver r(p);
  CHECK(r.resolve(p.by_rel.at("pkg/a.py"), "B").kind == Symbol::kClass);
  Symbol x = r.resolve(p.by_rel.at("pkg/c.py"), "X");
  CHECK(x.kind == Symbol::kNone);
  CHECK(x.cycle);
}

TEST_CASE("names outside the repository are external, unknown names are unresolved") {
  Project p = make_project(
      {{"t.py",
        "from django.test import TestCase\nclass T(TestCase): pass\nclass U(Missing): pass\n"}});
  Resolver r(p);
  Symbol s = r.resolve(0, "TestCase");
  CHECK(s.kind == Symbol::kExternal);
  CHECK(s.name == "django.test.TestCase");
  CHECK(r.ancestry(0, 1).unresolved.size() == 1);
}

TEST_CASE("a module-level alias binds like an import") {
  Project p = make_project({
      {"base.py", "class Base: pass\n"},
      {"t.py",
       "import base\nimport unittest\nB = base.Base\nTestCase = unittest.TestCase\n"
       "from base import Base\nBase = Base\nclass T(B): pass\nclass U(TestCase): pass\n"},
  });
  Resolver r(p);
  int t = p.by_rel.at("t.py");
  Symbol b = r.resolve(t, "B");
  CHECK(b.kind == Symbol::kClass);
  CHECK(b.file == p.by_rel.at("base.py"));
  CHECK(r.resolve(t, "TestCase").name == "unittest.TestCase");
  // `Base = Base` leaves the import's binding in place instead of looping.
  CHECK(r.resolve(t, "Base").kind == Symbol::kClass);
  CHECK(r.ancestry(t, 1).externals == std::vector<std::string>{"unittest.TestCase"});
}
