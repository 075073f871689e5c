// Service-aware sharding (docs/plan.md): each machine runs one tier; the planner chooses how
// many machines each tier gets and which units go where, modelling service start-up and
// xdist workers, deterministically and stably.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace testmap::plan {

enum class Unit { kTest, kClass, kFile };

struct PlanTest {
  std::string id;  // node id without parametrize ids
  std::string tier;
  std::vector<std::string> services;
  double seconds = 0;
  bool estimated = false;
  // A monorepo's project (the id starts with it): its tests run from its directory, so
  // a machine never holds two projects' tests.
  std::string project;
};

struct PlanInput {
  std::vector<PlanTest> tests;
  std::map<std::string, double> startup;  // service -> start-up seconds
  // What every machine costs before its services and tests: checkout, Python, installs
  // ([tool.testmap.ci] job-overhead-seconds; when not set, the median set-up of the tier
  // jobs the store measured, else 0, as plans were before it).
  double job_overhead = 0;
  int job_overhead_measured = 0;  // how many jobs that median is of; 0: set, or none measured
};

struct PlanOptions {
  int shards = 0;          // machines in all (minimise the wall clock), or
  double max_minutes = 0;  // the wall clock not to pass (minimise runner-minutes)
  int workers = 1;
  Unit unit = Unit::kFile;
  // Use all `shards` machines (as far as there are units), even those that do not shorten
  // the wall clock: a CI matrix of N jobs expects N non-empty shards.
  bool every_shard = false;
};

struct Machine {
  std::string id;       // "<tier>-<k>", 1-based; "<project slug>-<tier>-<k>" in a monorepo
  std::string project;  // a monorepo's project directory, or ""
  std::string tier;
  std::vector<std::string> tiers;  // the classification's tiers it runs (several when merged)
  std::vector<std::string> services;
  double startup_seconds = 0;  // the job's set-up (job_overhead) and its services' start
  double seconds = 0;          // start-up plus the makespan over the workers
  size_t tests = 0;
  std::vector<std::string> units;
};

struct Plan {
  Unit unit = Unit::kFile;
  int workers = 1;
  std::vector<Machine> machines;
  double wall_seconds = 0;
  double runner_seconds = 0;
  double lower_bound_seconds = 0;         // of the wall clock, for this many machines
  double runner_lower_bound_seconds = 0;  // start-ups plus the work, for these tiers' machines
  size_t estimated_tests = 0;
  size_t tests = 0;
  std::string error;                  // set when no plan is possible
  std::vector<std::string> warnings;  // a limit the plan cannot meet, machines left unused
};

// The unit a test belongs to: its id, "file::Class" (outermost class), or its file.
std::string unit_of(const std::string& test_id, Unit unit);
std::string_view unit_view(std::string_view test_id, Unit unit);  // a prefix of test_id
const char* unit_name(Unit unit);
bool parse_unit(const std::string& s, Unit* unit);

Plan make_plan(const PlanInput& input, const PlanOptions& options);

// Why `test_id` is where it is in `plan` (empty when the plan does not hold it).
std::string explain_placement(const Plan& plan, const PlanInput& input, const std::string& test_id);

}  // namespace testmap::plan

namespace testmap::plan {

// The machine of each test at run time (an index into plan.machines): the machine holding
// its unit whose services cover the test's, else (a new or moved test) a machine of its
// tier chosen by a hash of its id, else one whose services cover it, else the machine
// with the most services. Never none, when the plan has machines.
std::vector<size_t> assign(const Plan& plan, const std::vector<PlanTest>& tests);

}  // namespace testmap::plan
