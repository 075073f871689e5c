// Flaky tests: a test whose outcome differs between runs of the same code (the same
// code_version: commit and tracked changes) is flaky (`testmap flaky`, docs/flaky.md).
#pragma once

#include <string>
#include <vector>

namespace testmap::flaky {

// One outcome of one test in one recorded run.
struct Outcome {
  std::string test;     // node id, parametrize id included
  std::string code;     // the run's code version; never empty (other runs are not comparable)
  std::string outcome;  // passed, failed, error (skipped ones are left out by the caller)
  long long run_id = 0;
  double started = 0;  // the run's start, unix seconds
  std::string worker;  // gw0, ..., main, or "" when not recorded
};

struct FlakyTest {
  std::string test;
  int runs = 0, passes = 0, failures = 0;  // over every comparable run of the test
  std::vector<Outcome> last_failures;      // newest first, at most 3
  int versions = 0;                        // code versions in which it both passed and failed
};

// The flaky tests among `outcomes`, the lowest pass rate first.
std::vector<FlakyTest> find_flaky(const std::vector<Outcome>& outcomes);

}  // namespace testmap::flaky
