// The planner's input for a repository: tests and tiers from the classification (recorded
// runs merged), start-ups from the config, durations from the store's history.
#pragma once

#include <string>

#include "core/plan/planner.h"

namespace testmap::plan {

PlanInput repository_input(const std::string& root);

}  // namespace testmap::plan
