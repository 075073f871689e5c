// What `pytest -n N --dist testmap` hands out: the collected tests cut into units (a file's
// tests, or a large file's chunk), longest first, with each test's estimated seconds.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace testmap::schedule {

struct Unit {
  std::vector<size_t> tests;  // indexes into the collection, in collection order
  double seconds = 0;         // the tests' own estimates plus the set-up this unit pays
};

struct Schedule {
  std::vector<Unit> units;              // longest first; ties keep collection order
  std::vector<double> seconds;          // per collected test: its estimate
  std::vector<double> start;            // per collected test: what a process pays to start there
                                        // (its file's and class's shared set-up)
  std::map<std::string, double> setup;  // group -> shared set-up (setup_cost.h)
  int workers = 1;
  int estimated = 0;       // tests without a recorded duration of their own
  double total = 0;        // every test's estimate
  double lower_bound = 0;  // total over workers, or the longest test
};

// `history`: recent durations by node id, parametrize id included, without the shared
// set-up (own_durations(); a test recorded only without its variants is shared out between
// them); `setup`: from shared_setup().
// A file stays one unit unless it is larger than half a worker's share and than 4 times its
// shared set-up: then it is cut into chunks of that size, where a class ends when it can,
// and every chunk pays the set-up.
Schedule make_schedule(const std::vector<std::string>& nodeids,
                       const std::map<std::string, std::vector<double>>& history,
                       std::map<std::string, double> setup, int workers);

}  // namespace testmap::schedule
