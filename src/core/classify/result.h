// What classification says about each test, and why: the values every front end
// (table, JSON, --explain, the store, the plugin) prints or keeps.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/util/diagnostic.h"
#include "core/util/timings.h"

namespace testmap::classify {

inline constexpr const char* kUnknownTier = "unknown";
inline constexpr const char* kNoServicesTier = "no_services";

struct Reason {
  std::string service;  // "*" for reasons that make a test unknown; "external" at run time
  std::string rule;     // base-class, marker, fixture, path, call, dynamic, parse-error,
                        // unresolved; runtime, runtime-shared for recorded runs
  std::string detail;   // human sentence: "fixture pg_conn, requested by order_repo"
  std::string file;
  int line = 0;
  bool runtime = false;  // seen by a recorded run, not read from the source
  // An inferred reason's marker, fixture or base class, spelled as a rule in the config
  // would name it (`testmap init` writes these down).
  std::string subject;
};

// One observation of a recorded run (the store's runtime rows): `service` used in `phase`
// ("external" with the address as detail); `shared` when a higher-scoped fixture used it.
struct RuntimeUse {
  std::string service;
  std::string phase;
  bool shared = false;
  std::string detail;
};
// What recorded runs say, by test id: the observations, and the tests a recorded run saw
// pass (a skipped or failed run may have stopped before it used anything).
struct RuntimeUses {
  std::map<std::string, std::vector<RuntimeUse>> uses;
  std::set<std::string> passed;
  bool empty() const { return uses.empty() && passed.empty(); }
};

struct TestResult {
  std::string id;       // as pytest spells it, without parametrize ids
  std::string project;  // a monorepo's project directory (id and files start with it), or ""
  std::string file;
  int line = 0;  // of the test function
  // Where the test function is defined: a base class's method (a mixin in another file,
  // say) that this class inherits; the same as file/line otherwise.
  std::string defined_file;
  int defined_line = 0;
  std::string cls;  // "Outer::Inner" or empty
  std::string function;
  std::vector<std::string> services;          // sorted; empty for unknown tests
  bool unknown = false;                       // needs every service: see the "*" reasons
  bool recorded = false;                      // a recorded run saw this test
  std::vector<std::string> static_services;   // what the source alone says
  std::vector<std::string> runtime_services;  // what recorded runs saw (no "external")
  bool static_unknown = false;
  std::string tier;
  std::vector<Reason> reasons;
};

struct TierSummary {
  std::string name;
  std::vector<std::string> services;
  size_t tests = 0;
  size_t files = 0;
};

struct Classification {
  std::string root;
  std::vector<std::string> projects;  // a monorepo's projects, in the order classified
  std::vector<TestResult> tests;
  std::vector<TierSummary> tiers;               // largest first, unknown last
  std::map<std::string, size_t> service_tests;  // service -> tests needing it
  size_t unknown_tests = 0;
  size_t files_scanned = 0;
  size_t test_files = 0;
  size_t bytes_scanned = 0;
  Diagnostics diagnostics;  // config problems and files that do not parse
  std::string unusable;     // the config cannot be read: nothing here is to be trusted
  Timings timings;          // seconds per phase, for --timings
};

}  // namespace testmap::classify
