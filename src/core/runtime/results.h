// The JSON lines the plugin writes per test under `testmap record` (docs/runtime.md),
// read back for the store. A line cut short by a killed run is skipped and reported.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::runtime {

struct PhaseRecord {
  std::vector<std::string> services;  // every service used, shared ones included
  std::vector<std::string> shared;    // used only by higher-scoped fixtures set up here
  std::vector<std::string> external;  // addresses
  // service -> the fixtures whose own code used it (set-up, or a finalizer at teardown)
  std::map<std::string, std::vector<std::string>> fixtures;
};

struct TestRecord {
  std::string nodeid;  // as pytest spells it, parametrize ids included
  std::string outcome;
  double duration = 0;
  std::map<std::string, PhaseRecord> phases;  // setup, call, teardown
  std::vector<std::string> refused;
  bool has_phases = true;  // false for durations only (no shim, an imported report)
  // pytest --testmap-deps: the code the test ran, as (file relative to the root,
  // co_qualname) pairs; files whose code it ran are all there, nothing else.
  std::vector<std::pair<std::string, std::string>> deps;
  bool has_deps = false;
  // The pytest process that ran it (its file's name: gw0, gw1, ... or main) and how many
  // tests that process ran before it; "" and -1 for durations imported from elsewhere.
  std::string worker;
  int position = -1;
};

// Every `*.jsonl` file directly in `dir`, in name order, lines in order.
std::vector<TestRecord> read_results(const std::string& dir, Diagnostics* diagnostics);

// The code each worker ran outside its tests (imports at collection), from its
// `outside-<worker>.json` in `dir`: (file relative to the root, co_qualname).
std::vector<std::pair<std::string, std::string>> read_outside(const std::string& dir,
                                                              Diagnostics* diagnostics);

}  // namespace testmap::runtime
