// Telling a flaky test from one the code broke (flaky.h).
#include "core/flaky/flaky.h"

#include <algorithm>
#include <map>
#include <set>

namespace testmap::flaky {

std::vector<FlakyTest> find_flaky(const std::vector<Outcome>& outcomes) {
  struct Seen {
    std::map<std::string, std::pair<bool, bool>> by_code;  // code -> (passed, failed)
    std::vector<const Outcome*> all;
  };
  std::map<std::string, Seen> tests;
  for (const auto& o : outcomes) {
    Seen& s = tests[o.test];
    auto& [passed, failed] = s.by_code[o.code];
    (o.outcome == "passed" ? passed : failed) = true;
    s.all.push_back(&o);
  }
  std::vector<FlakyTest> out;
  for (auto& [test, s] : tests) {
    FlakyTest f{test};
    for (const auto& [code, pf] : s.by_code) f.versions += pf.first && pf.second;
    if (f.versions == 0) continue;  // every version passed, or failed, every time
    std::sort(s.all.begin(), s.all.end(),
              [](const Outcome* a, const Outcome* b) { return a->run_id > b->run_id; });
    for (const Outcome* o : s.all) {
      ++f.runs;
      if (o->outcome == "passed") {
        ++f.passes;
      } else {
        ++f.failures;
        if (f.last_failures.size() < 3) f.last_failures.push_back(*o);
      }
    }
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const FlakyTest& a, const FlakyTest& b) {
    // a/b pass rates compared without division
    long long l = static_cast<long long>(a.passes) * b.runs;
    long long r = static_cast<long long>(b.passes) * a.runs;
    return l != r ? l < r : a.test < b.test;
  });
  return out;
}

}  // namespace testmap::flaky
