// Putting a finished run's JSON lines into the store, keeping them when it cannot:
// shared by `testmap record` and the plugin's duration recording.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace testmap::runtime {

struct MergeSummary {
  size_t tests = 0;                      // every run merged, earlier ones included; each
                                         // parametrized variant counts (pytest's node ids)
  std::set<std::string> test_ids;        // the same without parametrize ids, as classify counts
  std::set<std::string> external_tests;  // test ids that reached an address no service declares
  std::set<std::string> external;        // those addresses
  size_t earlier_tests = 0;              // of those, the tests of runs left in .testmap/pending/
  std::set<std::string> with_services;   // test ids (as in test_ids) that used a service
  std::set<std::string> services;        // the declared services used ("external" apart)
  std::vector<std::string> messages;     // problems, one line each
  bool ok = true;                        // false: something is waiting in .testmap/pending/
};

// The rootdir the plugin wrote in `dir` (meta-<worker>.json), or "".
std::string recorded_root(const std::string& dir);

// Merges every run waiting in <root>/.testmap/pending/, then `dir` (removed once merged;
// moved to pending/ when the store cannot take it). `kind` names the run in the store.
MergeSummary merge_runs(const std::string& root, const std::string& dir, const std::string& kind);

}  // namespace testmap::runtime
