// Environment groups balanced into CI jobs under a cap on jobs (`--max-jobs`): a job costs
// its set-up (job-overhead-seconds), the start-up of its services, and its environments run
// a few at a time, one per core. Large groups are split, small groups with the same
// services share a job, and a split is only made when the wall clock it saves is at least
// the runner time it adds.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/config.h"
#include "core/envs/groups.h"

namespace testmap::envs {

struct CostModel {
  double job_overhead = 60;               // checkout, Pythons, installing tox: per job
  std::map<std::string, double> startup;  // seconds to start each service
  int cores = 2;                          // environments a job runs at once
  int max_jobs = 20;
  double unknown_env_seconds = 0;  // an environment without a recorded duration; 0: the median
};

struct Job {
  std::string name;                   // the group's, with -2, -3... for its other parts
  std::vector<std::string> groups;    // the groups it holds environments of
  std::vector<const EnvTests*> envs;  // longest first
  std::vector<std::string> pythons;
  std::vector<std::string> services;
  double seconds = 0;  // estimated wall clock: set-up, start-up, environments
};

struct Balanced {
  std::vector<Job> jobs;
  double wall = 0;              // the longest job (all run at once, within the cap)
  double runner = 0;            // the jobs' seconds together
  size_t estimated = 0;         // environments without a recorded duration
  bool cycle = false;           // some jobs would wait for each other (depends across them)
  double job_overhead = 0;      // the set-up each job was costed at
  std::string overhead_source;  // where that came from, for a person: "job-overhead-seconds"...
};

// The cost model of a project: [tool.testmap.ci] job-overhead-seconds (60 by default) and
// each service's startup-seconds.
CostModel cost_model(const config::Config& cfg, int max_jobs);

// The jobs as groups, for the CI generators: a job's environments, Pythons and services.
std::vector<Group> as_groups(const Balanced& b);

// Balances `groups` (read with plan_envs at `root`, of `tool`: tox or nox) with the
// durations the store holds. A job's set-up is job-overhead-seconds when set, else the
// median the store measured for this tool's generated jobs (testmap-job.json), else 60 s.
// False with *error when the store cannot be read.
bool balance_from_store(const std::string& root, const std::string& tool,
                        std::vector<Group>* groups, int max_jobs, Balanced* out,
                        std::string* error);

// The seconds `seconds` take on `cores` cores, longest first on the least loaded.
double makespan(std::vector<double> seconds, int cores);

// Jobs for `groups`, each environment's seconds from `durations` (by name; estimated where
// missing): the shortest wall clock within the cap on jobs that needs no more runner time
// than one job per group; when none is shorter than that (one big group), the shortest
// whose runner time exceeds one job per group's by no more than the wall clock it saves.
Balanced balance(const std::vector<Group>& groups, const std::map<std::string, double>& durations,
                 const CostModel& model);

}  // namespace testmap::envs
