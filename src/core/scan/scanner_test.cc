// Scanner unit tests: the outline of small sources, and errors with their lines.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/scan/scanner.h"

using testmap::scan::Outline;
using testmap::scan::scan_source;

namespace {
const std::string kDots = "\xE2\x80\xA6";
}

TEST_CASE("imports of every form, with levels and aliases") {
  Outline o = scan_source(
      "import a.b as c, d\nfrom ..x.y import (p as q,\n  r,)\nfrom . import *\n", "m.py");
  REQUIRE(o.ok());
  REQUIRE(o.imports.size() == 5);
  CHECK(o.imports[0].module == "a.b");
  CHECK(o.imports[0].asname == "c");
  CHECK(o.imports[1].module == "d");
  CHECK(o.imports[2].module == "x.y");
  CHECK(o.imports[2].level == 2);
  CHECK(o.imports[2].name == "p");
  CHECK(o.imports[2].asname == "q");
  CHECK(o.imports[3].name == "r");
  CHECK(o.imports[3].line == 2);
  CHECK(o.imports[4].name == "*");
  CHECK(o.imports[4].module.empty());
}

TEST_CASE("classes: bases, keywords, nesting, spans") {
  Outline o = scan_source(
      "class A(pkg.Base, Generic[T], metaclass=M):\n    class B:\n        x = 1\n\n    # c\n\ny = "
      "2\n",
      "m.py");
  REQUIRE(o.classes.size() == 2);
  CHECK(o.classes[0].bases.size() == 2);
  CHECK(o.classes[0].bases[0].text == "pkg.Base");
  CHECK(o.classes[0].bases[1].text == "Generic");
  CHECK(o.classes[0].keywords == std::vector<std::string>{"metaclass"});
  CHECK(o.classes[0].end_line == 3);
  CHECK(o.classes[1].qualname == "A.B");
  CHECK(o.classes[1].parent == 0);
}

TEST_CASE("functions: params, defaults, decorators and calls") {
  Outline o = scan_source(
      "@pytest.mark.parametrize('a,b', [(1, 2)])\n"
      "@pytest.fixture(autouse=True, name=\"db\")\n"
      "async def f(x, /, y=1, *args, z, w=2, **kw):\n"
      "    v = [g(i) for i in h.k(x)]\n"
      "    return f\"{m()}\" + C().method() + (lambda: n())()\n",
      "m.py");
  REQUIRE(o.functions.size() == 1);
  const auto& f = o.functions[0];
  CHECK(f.is_async);
  CHECK(f.line == 3);
  CHECK(f.end_line == 5);
  CHECK(f.params == std::vector<std::string>{"x", "y", "*args", "z", "w", "**kw"});
  CHECK(f.defaults == 1);
  REQUIRE(f.decorators.size() == 2);
  CHECK(f.decorators[0].text == "pytest.mark.parametrize('a,b'," + kDots + ")");
  CHECK(f.decorators[1].text == "pytest.fixture(autouse=True,name='db')");
  CHECK(f.calls == std::vector<std::string>{"C", "g", "h.k", "m", "n"});
  CHECK(f.attr_calls == std::vector<std::string>{"method"});
}

TEST_CASE("nested definitions keep their own calls") {
  Outline o = scan_source(
      "def outer():\n    a()\n    @deco(x())\n    def inner(p=d()):\n        b()\n    c()\n",
      "m.py");
  REQUIRE(o.functions.size() == 2);
  CHECK(o.functions[0].calls == std::vector<std::string>{"a", "c"});
  CHECK(o.functions[1].calls == std::vector<std::string>{"b"});
  CHECK(o.functions[1].qualname == "outer.inner");
}

TEST_CASE("pytestmark and pytest_plugins at module and class level") {
  Outline o = scan_source(
      "pytestmark = [pytest.mark.a, pytest.mark.b('x')]\n"
      "pytest_plugins = 'p.q'\n"
      "class T:\n    pytestmark = pytest.mark.c\n",
      "m.py");
  REQUIRE(o.assignments.size() == 3);
  CHECK(o.assignments[0].values.size() == 2);
  CHECK(o.assignments[0].values[1].text == "pytest.mark.b('x')");
  CHECK(o.assignments[1].values[0].text == "'p.q'");
  CHECK(o.assignments[2].scope == "T");
}

TEST_CASE("CRLF, BOM, tabs and a latin-1 coding declaration") {
  Outline o = scan_source(
      "\xEF\xBB\xBF"
      "class A:\r\n\tdef f(self):\r\n\t\treturn g()\r\n",
      "m.py");
  REQUIRE(o.ok());
  REQUIRE(o.functions.size() == 1);
  CHECK(o.functions[0].end_line == 3);
  Outline l =
      scan_source("# -*- coding: latin-1 -*-\ns = '\xE9'\npytestmark = 'caf\xE9'\n", "m.py");
  CHECK(l.ok());
  REQUIRE(l.assignments.size() == 1);
  CHECK(l.assignments[0].values[0].text == "'caf\xC3\xA9'");
}

TEST_CASE("PEP 701 nested f-strings with format specs") {
  Outline o =
      scan_source("def f():\n    return f\"{f\"{a()}\"!r:>{w()}} {{x}} {b():{c()}}\"\n", "m.py");
  REQUIRE(o.ok());
  CHECK(o.functions[0].calls == std::vector<std::string>{"a", "b", "c", "w"});
}

TEST_CASE("errors carry their line and keep what came before") {
  Outline o = scan_source("def ok():\n    pass\nx = (1,\ny = 'unterminated\n", "m.py");
  CHECK_FALSE(o.ok());
  CHECK(o.error_line == 4);
  CHECK(o.functions.size() == 1);
  Outline d = scan_source("if x:\n        a = 1\n    b = 2\n", "m.py");
  CHECK(d.error == "unindent does not match any outer indentation level");
  CHECK(d.error_line == 3);
  Outline u = scan_source("x = 1\n\xFF = 2\n", "m.py");
  CHECK_FALSE(u.ok());
  CHECK(u.error_line == 2);
}

TEST_CASE("deep nesting is an error, not a stack overflow") {
  std::string deep = "x = " + std::string(100000, '(') + std::string(100000, ')') + "\n";
  Outline o = scan_source(deep, "m.py");
  CHECK(o.error == "too many nested parentheses");
  std::string fdeep = "x = ";
  for (int i = 0; i < 500; ++i) fdeep += "f'{";
  Outline f = scan_source(fdeep, "m.py");
  CHECK_FALSE(f.ok());
}

TEST_CASE("the hash ignores comments, blank lines and continuation layout") {
  Outline a = scan_source("def f(a, b):\n    return a + b\n", "m.py");
  Outline b = scan_source("def f(a,\n      b):  # why\n\n    return a + \\\n        b\n", "m.py");
  Outline c = scan_source("def f(a, b):\n    return a - b\n", "m.py");
  CHECK(a.functions[0].hash == b.functions[0].hash);
  CHECK(a.functions[0].hash != c.functions[0].hash);
}

TEST_CASE("match statements are not calls, their guards are") {
  Outline o = scan_source(
      "def f(p):\n    match p:\n        case Point(x=0) if ok(p):\n            g()\n", "m.py");
  REQUIRE(o.ok());
  CHECK(o.functions[0].calls == std::vector<std::string>{"g", "ok"});
}

TEST_CASE("a lambda's parameters do not split a decorator's arguments") {
  auto o = testmap::scan::scan_source(
      "@deco('1.4', ['a', 'b'], lambda a, b, c: (a, b), key=lambda x, y: x)\ndef f(): pass\n",
      "t.py");
  REQUIRE(o.functions.size() == 1);
  const auto& d = o.functions[0].decorators.at(0);
  CHECK(d.args.size() == 3);
  CHECK(d.kwargs.size() == 1);
}

namespace {

// `def f():` whose body is one literal of n items, laid out one per line or all on one,
// with item k changed to `changed` when given; then `g()` after it.
std::string huge_literal(size_t n, bool one_line, size_t k = SIZE_MAX) {
  std::string s = "def f():\n    data = [\n";
  for (size_t i = 0; i < n; ++i) {
    s += i == k ? "(2, 'x')," : "(1, 'x'),";
    s += one_line ? " " : "\n        ";
  }
  return s + "call_at_the_end()]\n    return g(data)\n\n\ndef test_after():\n    pass\n";
}

}  // namespace

TEST_CASE("a logical line too long to keep whole hashes and calls as it streams") {
  // 100,000 items of 6 tokens: more than the 2^18 tokens a line is kept whole for.
  Outline spread = scan_source(huge_literal(100000, false), "m.py");
  Outline flat = scan_source(huge_literal(100000, true), "m.py");
  Outline changed = scan_source(huge_literal(100000, true, 99000), "m.py");
  REQUIRE(spread.ok());
  REQUIRE(spread.functions.size() == 2);
  CHECK(spread.functions[1].name == "test_after");
  CHECK(spread.functions[0].calls == std::vector<std::string>{"call_at_the_end", "g"});
  CHECK(spread.functions[0].end_line == flat.functions[0].end_line + 100000);
  CHECK(spread.functions[0].hash == flat.functions[0].hash);   // layout is not content
  CHECK(flat.functions[0].hash != changed.functions[0].hash);  // one item near the end is
  CHECK(flat.functions[1].hash == changed.functions[1].hash);
}

TEST_CASE("a block still follows a header that is too long to keep whole") {
  std::string s = "def f():\n    for x in [";
  for (int i = 0; i < 100000; ++i) s += "(1, 'x'), ";
  s += "]:\n        h(x)\n\n\ndef test_after():\n    pass\n";
  Outline o = scan_source(s, "m.py");
  REQUIRE(o.ok());
  REQUIRE(o.functions.size() == 2);
  CHECK(o.functions[0].calls == std::vector<std::string>{"h"});
}

TEST_CASE("top-level bindings are hashed by name, apart from the other module-level code") {
  auto scan = [](const char* src) { return scan_source(src, "m.py"); };
  Outline a = scan("import os\nLIMIT = 3\nNAME: str = 'x'\nA = B = 1\nif os:\n    C = 2\n");
  Outline b = scan("import os\nLIMIT = 4\nNAME: str = 'x'\nA = B = 1\nif os:\n    C = 2\n");
  Outline c = scan("import os\nLIMIT = 3\nNAME: str = 'x'\nA = B = 2\nif os:\n    C = 2\n");
  // Only single-target statements at the top level (not in a block) are bindings.
  REQUIRE(a.bindings.size() == 2);
  CHECK(a.bindings[0].first == "LIMIT");
  CHECK(a.bindings[1].first == "NAME");
  CHECK(a.module_hash == b.module_hash);  // a constant changed: the rest did not
  CHECK(a.bindings[0].second != b.bindings[0].second);
  CHECK(a.bindings[1].second == b.bindings[1].second);
  CHECK(a.module_hash != c.module_hash);  // `A = B = ...` binds two names: the rest
}

TEST_CASE("names read at import time: module and class level, decorators, defaults") {
  Outline o = scan_source(
      "from m import X\nY = X + 1\n@deco(Z)\ndef f(a=W):\n    return HIDDEN\n"
      "class K(Base):\n    attr = m.ATTR\n",
      "m.py");
  auto has = [&](const char* n) {
    return std::binary_search(o.import_time_names.begin(), o.import_time_names.end(), n);
  };
  CHECK(has("X"));
  CHECK(has("Z"));
  CHECK(has("W"));
  CHECK(has("Base"));
  CHECK_FALSE(has("ATTR"));  // a class body's names are the class's
  REQUIRE(o.classes.size() == 1);
  CHECK(o.classes[0].import_time_names == std::vector<std::string>{"ATTR", "attr", "m"});
  CHECK_FALSE(has("Y"));       // a binding's own target
  CHECK_FALSE(has("HIDDEN"));  // a function body runs later, when called
}

TEST_CASE("imports under if TYPE_CHECKING are marked; the else branch runs") {
  Outline o = scan_source(
      "import typing as t\nif t.TYPE_CHECKING:\n    from a import A\n    import b\nelse:\n"
      "    from c import C\nif TYPE_CHECKING:\n    import d\nimport e\n",
      "m.py");
  REQUIRE(o.imports.size() == 6);
  CHECK_FALSE(o.imports[0].type_checking);  // typing
  CHECK(o.imports[1].type_checking);        // a
  CHECK(o.imports[2].type_checking);        // b
  CHECK_FALSE(o.imports[3].type_checking);  // c, in the else branch
  CHECK(o.imports[4].type_checking);        // d
  CHECK_FALSE(o.imports[5].type_checking);  // e
}

TEST_CASE("call sites: positions and the with blocks around them, only when asked") {
  const char* src =
      "from m import cm as alias\n"
      "def test_a(self):\n"
      "    x.objects.create(a=f(1))\n"
      "    with alias(\"r\") as m, other():\n"
      "        with open(p):\n"
      "            self.create_user()\n"
      "        def inner():\n"
      "            self.create_org()\n"
      "    self.create_team()\n"
      "    with (cm() as a, b.c()): d()\n"
      "    async with e(): g()\n";
  CHECK(scan_source(src, "t.py").call_sites.empty());
  Outline o = scan_source(src, "t.py", {true});
  REQUIRE(o.ok());
  auto site = [&](const std::string& name) {
    for (const auto& c : o.call_sites)
      if (c.name == name) return c;
    FAIL("no call site " << name);
    return testmap::scan::CallSite{};
  };
  CHECK(site("x.objects.create").line == 3);
  CHECK(site("x.objects.create").col == 4);
  CHECK(site("x.objects.create").withs.empty());
  CHECK(site("f").col == 23);
  REQUIRE(o.withs.size() == 6);
  CHECK(o.withs[0].name == "alias");
  CHECK(o.withs[1].name == "other");
  CHECK(o.withs[2].name == "open");
  // `other()` is evaluated inside `alias()`, not inside itself.
  CHECK(site("other").withs == std::vector<int>{0});
  CHECK(site("self.create_user").withs == std::vector<int>{0, 1, 2});
  CHECK(site("self.create_user").line == 6);
  CHECK(site("self.create_user").col == 12);
  // A def inside a with block runs later, outside it.
  CHECK(site("self.create_org").withs.empty());
  CHECK(site("self.create_org").function == 1);
  CHECK(site("self.create_team").withs.empty());
  CHECK(o.withs[3].name == "cm");
  CHECK(o.withs[4].name == "b.c");
  CHECK(site("d").withs == std::vector<int>{3, 4});
  CHECK(o.withs[5].name == "e");
  CHECK(site("g").withs == std::vector<int>{5});
  // The functions' call sets are the same as without call sites.
  CHECK(o.functions[0].calls == scan_source(src, "t.py").functions[0].calls);
}
