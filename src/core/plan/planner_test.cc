// The planner's rule for monorepos: a machine holds one project's tests.
#include <doctest/doctest.h>

#include "core/plan/planner.h"

using namespace testmap::plan;

TEST_CASE("tiers of two projects are never merged onto one machine") {
  PlanInput in;
  in.startup = {{"postgres", 5}};
  in.tests = {{"a/t.py::x", "postgres_only", {"postgres"}, 10, false, "a"},
              {"a/u.py::y", "no_services", {}, 1, false, "a"},
              {"b/t.py::z", "no_services", {}, 1, false, "b"}};
  PlanOptions o;
  o.shards = 2;
  Plan p = make_plan(in, o);
  REQUIRE(p.machines.size() == 2);
  for (const auto& m : p.machines)
    for (const auto& u : m.units) CHECK(u.starts_with(m.project + "/"));
  // Within project a, its two tiers share the machine that starts Postgres.
  CHECK(p.machines[0].id == "a-postgres_only-1");
  CHECK(p.machines[0].tiers == std::vector<std::string>{"no_services", "postgres_only"});
  CHECK(p.machines[1].id == "b-no_services-1");
  // One machine cannot hold two projects: the plan says so and uses one each.
  o.shards = 1;
  p = make_plan(in, o);
  CHECK(p.machines.size() == 2);
  REQUIRE(!p.warnings.empty());
  CHECK(p.warnings.front().find("too few") != std::string::npos);
}
