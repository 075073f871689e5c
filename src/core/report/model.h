// What the report shows, gathered once: the classification (recorded runs merged), the
// durations' history, a plan, what recorded runs and the source disagree about, flaky
// tests, the polluters `testmap bisect` found, and which runs were used.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/classify/result.h"
#include "core/flaky/flaky.h"
#include "core/plan/planner.h"
#include "core/store/store.h"
#include "core/util/timings.h"

namespace testmap::report {

struct RunsUsed {
  size_t runs = 0;     // recorded runs in the store (pytest, record, import)
  double newest = 0;   // unix seconds of the newest, 0 without one
  std::string commit;  // the commit the newest one ran at, "" when unknown
};

// One unit of a plan's machine as the planner models its run: on which worker, from when.
struct Block {
  std::string unit;  // a file, class or test id
  std::string tier;
  size_t worker = 0;
  double start = 0, seconds = 0;  // after the machine's start-up
  size_t tests = 0;
};

struct Model {
  std::string root;
  classify::Classification c;
  std::map<std::string, std::vector<double>> history;  // test id -> seconds, newest first
  plan::PlanInput plan_input;                          // durations estimated where unknown
  plan::Plan plan;
  std::vector<std::vector<Block>> blocks;  // per machine of the plan
  std::vector<flaky::FlakyTest> flaky;
  std::vector<store::Polluter> polluters;  // the newest finding per test, newest first
  RunsUsed runs;
  std::string diff_json;  // `classify --diff --json` of the classification
  // With Options::affected: which tests the working tree's change selects, and why.
  bool affected = false;
  std::string run_all;  // set when every test runs, with the one reason
  std::map<std::string, std::vector<std::string>> selected;  // test id -> why
  Timings timings;                                           // seconds per phase, for --timings
};

struct Options {
  std::string plan_file;  // a plan made by `testmap plan --json`, else planned here
  int shards = 0;
  double max_minutes = 0;
  int workers = 1;
  bool affected = false;  // show what `testmap affected` selects for the working tree
  std::string base;       // and what changed since this commit
};

// Gathers the model of the project at `root`; false with *error (one line) when the config
// or the store cannot be read, or the plan cannot be made.
bool gather(const std::string& root, const Options& options, Model* out, std::string* error);

// The blocks of each machine of `plan`: its units longest first on the least loaded
// worker, as the planner estimates a machine's wall clock.
std::vector<std::vector<Block>> schedule_blocks(const plan::Plan& plan,
                                                const plan::PlanInput& input);

}  // namespace testmap::report
