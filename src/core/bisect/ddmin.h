// The smallest set of tests that, run before a test, make it fail: a bisection that assumes
// one polluter, then Zeller's delta debugging (ddmin) when that is not so, over the tests
// that ran before it, keeping their order. One polluter among N is found in log2 N + 1
// trials; a failure that needs several tests together is minimized too, at more trials.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace testmap::bisect {

enum class Verdict {
  kFails,       // the test failed after these
  kPasses,      // it passed
  kUnresolved,  // it did not run (a collection error, a crash): counts as not failing
};

// Runs the test after `before` (in that order) and says how it went.
using Trial = std::function<Verdict(const std::vector<std::string>& before)>;

struct Minimized {
  std::vector<std::string> polluters;  // a 1-minimal failing set, in the order they ran
  int trials = 0;                      // calls of the trial (each a pytest run)
  bool exhausted = false;              // max_trials reached: polluters is failing, not minimal
};

// `before` must fail (the caller checks); a set that has been tried is never tried again.
Minimized ddmin(const std::vector<std::string>& before, const Trial& trial, int max_trials);

}  // namespace testmap::bisect
