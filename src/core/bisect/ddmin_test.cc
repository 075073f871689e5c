// ddmin finds the polluter, or the polluters that fail only together, in few trials.
#include "core/bisect/ddmin.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

using namespace testmap::bisect;

namespace {

std::vector<std::string> tests(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("t.py::test_" + std::to_string(i));
  return out;
}

// The test fails when every one of `needed` ran before it.
Trial needs(std::set<std::string> needed, int* calls) {
  return [needed, calls](const std::vector<std::string>& before) {
    ++*calls;
    std::set<std::string> ran(before.begin(), before.end());
    return std::includes(ran.begin(), ran.end(), needed.begin(), needed.end()) ? Verdict::kFails
                                                                               : Verdict::kPasses;
  };
}

}  // namespace

TEST_CASE("one polluter among many is found in log2 N + 1 trials") {
  for (int n : {2, 3, 7, 64, 100, 1000}) {
    for (int at : {0, n / 2, n - 1}) {
      auto before = tests(n);
      int calls = 0;
      Minimized m = ddmin(before, needs({before[at]}, &calls), 200);
      CHECK(m.polluters == std::vector<std::string>{before[at]});
      CHECK(m.trials == calls);
      CHECK(m.trials <= static_cast<int>(std::ceil(std::log2(n))) + 1);
      CHECK_FALSE(m.exhausted);
    }
  }
}

TEST_CASE("two tests that fail it only together are both kept, in the order they ran") {
  auto before = tests(50);
  int calls = 0;
  Minimized m = ddmin(before, needs({before[40], before[3]}, &calls), 500);
  CHECK(m.polluters == std::vector<std::string>{before[3], before[40]});
  CHECK(m.trials < 50);  // fewer than trying each test
}

TEST_CASE("a test that did not run counts as not failing") {
  auto before = tests(8);
  Minimized m = ddmin(
      before,
      [&](const std::vector<std::string>& set) {
        if (set.size() == 4) return Verdict::kUnresolved;  // the halves: a collection error
        return std::find(set.begin(), set.end(), before[5]) != set.end() ? Verdict::kFails
                                                                         : Verdict::kPasses;
      },
      100);
  CHECK(m.polluters == std::vector<std::string>{before[5]});
}

TEST_CASE("the trial budget stops it with a smaller set that still fails") {
  auto before = tests(1000);
  int calls = 0;
  Minimized m = ddmin(before, needs({before[3]}, &calls), 4);
  CHECK(m.exhausted);
  CHECK(m.trials == 4);
  CHECK(m.polluters.size() == 62);  // 1000 halved four times, each half tried and failing
  CHECK(std::find(m.polluters.begin(), m.polluters.end(), before[3]) != m.polluters.end());
  // Halves taken untried (the first passed) are never reported as failing.
  Minimized late = ddmin(before, needs({before[999]}, &calls), 4);
  CHECK(late.exhausted);
  CHECK(late.polluters == before);
}
