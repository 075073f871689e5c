// A flaky test is one whose outcome differs within one code version, never across versions.
#include "core/flaky/flaky.h"

#include <doctest/doctest.h>

using namespace testmap::flaky;

namespace {

Outcome o(std::string test, std::string code, std::string outcome, long long run) {
  return {std::move(test), std::move(code), std::move(outcome), run, 1000.0 + run, "gw0"};
}

}  // namespace

TEST_CASE("a test that passes and fails on the same code is flaky; one fixed by a commit is not") {
  std::vector<Outcome> all = {
      o("t.py::sometimes", "A", "failed", 1), o("t.py::sometimes", "A", "passed", 2),
      o("t.py::sometimes", "B", "passed", 3), o("t.py::sometimes", "B", "error", 4),
      o("t.py::fixed", "A", "failed", 1),     o("t.py::fixed", "A", "failed", 2),
      o("t.py::fixed", "B", "passed", 3),     o("t.py::fixed", "B", "passed", 4),
      o("t.py::broken", "A", "failed", 1),    o("t.py::broken", "B", "failed", 3),
      o("t.py::rarely", "A", "passed", 1),    o("t.py::rarely", "A", "passed", 2),
      o("t.py::rarely", "B", "passed", 3),    o("t.py::rarely", "B", "failed", 4),
  };
  auto found = find_flaky(all);
  REQUIRE(found.size() == 2);
  CHECK(found[0].test == "t.py::sometimes");  // 2 of 4 passed: the lower pass rate first
  CHECK(found[0].passes == 2);
  CHECK(found[0].failures == 2);
  CHECK(found[0].versions == 2);
  REQUIRE(found[0].last_failures.size() == 2);
  CHECK(found[0].last_failures[0].run_id == 4);  // newest first
  CHECK(found[1].test == "t.py::rarely");
  CHECK(found[1].runs == 4);
  CHECK(found[1].versions == 1);
}

TEST_CASE("a parametrized variant is a test of its own") {
  auto found = find_flaky({o("t.py::p[1]", "A", "passed", 1), o("t.py::p[2]", "A", "failed", 1),
                           o("t.py::p[1]", "A", "passed", 2), o("t.py::p[2]", "A", "failed", 2)});
  CHECK(found.empty());
}
