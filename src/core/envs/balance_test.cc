// Balancing tox environment groups into jobs: a big group is split, small groups with the
// same services share a job, the cap and one-job-per-group's runner time are never passed.
#include <doctest/doctest.h>

#include <set>

#include "core/envs/balance.h"

using testmap::envs::balance;
using testmap::envs::CostModel;
using testmap::envs::EnvTests;
using testmap::envs::Group;
using testmap::envs::makespan;

namespace {

Group group(const std::string& name, int envs, const std::vector<std::string>& services) {
  Group g;
  g.name = name;
  g.services = services;
  for (int i = 0; i < envs; ++i) {
    EnvTests e;
    e.env.name = name + std::to_string(i);
    e.env.python = "3.11";
    e.services = services;
    g.envs.push_back(e);
  }
  return g;
}

}  // namespace

TEST_CASE("makespan: longest first on the least loaded core") {
  CHECK(makespan({3, 3, 2, 2, 2}, 2) == 7);
  CHECK(makespan({5}, 4) == 5);
  CHECK(makespan({}, 2) == 0);
}

TEST_CASE("a big group is split and small groups of the same services share a job") {
  std::vector<Group> groups = {group("django", 40, {"postgres"}), group("a", 2, {}),
                               group("b", 2, {}), group("c", 2, {}), group("redis", 2, {"redis"})};
  std::map<std::string, double> durations;
  for (const auto& g : groups)
    for (const auto& e : g.envs) durations[e.env.name] = 60;
  CostModel m;
  m.job_overhead = 30;
  m.max_jobs = 5;
  auto b = balance(groups, durations, m);
  // One job per group: django's is 30 + 20 rounds of 60 s on 2 cores.
  double one_per_group_wall = 30 + 20 * 60;
  double one_per_group_runner = one_per_group_wall + 3 * (30 + 60) + (30 + 60);
  CHECK(b.jobs.size() <= 5);
  CHECK(b.wall < one_per_group_wall * 0.7);
  CHECK(b.runner <= one_per_group_runner + 1e-6);
  std::set<std::string> seen;
  for (const auto& j : b.jobs) {
    bool postgres = false;
    for (const auto* e : j.envs) {
      CHECK(seen.insert(e->env.name).second);  // each environment once
      postgres = postgres || e->env.name.starts_with("django");
    }
    // Only django's jobs start Postgres; a, b and c share one job without services.
    CHECK((j.services == std::vector<std::string>{"postgres"}) == postgres);
  }
  CHECK(seen.size() == 48);
}

TEST_CASE("without durations, every environment costs the median, and says so") {
  std::vector<Group> groups = {group("x", 3, {})};
  CostModel m;
  auto b = balance(groups, {{"x0", 10}}, m);
  CHECK(b.estimated == 2);
  CHECK(b.jobs.size() == 1);
  CHECK(b.wall == doctest::Approx(m.job_overhead + 20));
}
