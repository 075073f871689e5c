// Duration estimates: the median of a test's recent runs, else of its class, its file,
// then the suite (docs/plan.md). One slow run does not move a median.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/plan/planner.h"

namespace testmap::plan {

// Fills seconds and `estimated` of every test from `history` (test id -> recent run
// durations, newest first).
void estimate_durations(std::vector<PlanTest>& tests,
                        const std::map<std::string, std::vector<double>>& history);

double median(std::vector<double> v);

}  // namespace testmap::plan
