// The planner's input for a repository: tests and tiers from the classification (recorded
// runs merged), start-ups from the config, durations from the store's history.
#pragma once

#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/classify/result.h"
#include "core/config/config.h"
#include "core/config/projects.h"
#include "core/plan/planner.h"

namespace testmap::plan {

// False with *error (one line) when the config or the store cannot be read: a plan made
// without them would drop services or durations silently. At a monorepo's root, every
// project's tests, ids spelled from the root and each test named with its project (whose
// rootdirs go to `projects`).
bool repository_input(const std::string& root, PlanInput* input, std::string* error,
                      std::vector<config::ProjectRoot>* projects = nullptr);

// Durations are estimated from the median of this many recent runs (docs/plan.md).
inline constexpr int kHistoryRuns = 5;

// The planner's input from a classification of one project: each test with its tier and
// services (an unknown test needs every service), start-ups from `cfg`, durations estimated
// from `history` (test id -> recent runs, newest first; only the kHistoryRuns newest count).
void classification_input(const config::Config& cfg, const classify::Classification& c,
                          const std::map<std::string, std::vector<double>>& history,
                          PlanInput* input);

// Keeps the tests of these tiers (every tier when empty) and, with `ids`, only those ids:
// one machine's share of a CI job (`pytest --testmap-tier T --testmap-shard K/N`), whose
// size `testmap plan --tier T --matrix` computes beforehand from the same narrowing.
void keep_tests(PlanInput* input, const std::vector<std::string>& tiers,
                const std::unordered_set<std::string>* ids = nullptr);

}  // namespace testmap::plan
