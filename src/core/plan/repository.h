// The planner's input for a repository: tests and tiers from the classification (recorded
// runs merged), start-ups from the config, durations from the store's history.
#pragma once

#include <string>

#include "core/plan/planner.h"

namespace testmap::plan {

// False with *error (one line) when the config or the store cannot be read: a plan made
// without them would drop services or durations silently.
bool repository_input(const std::string& root, PlanInput* input, std::string* error);

}  // namespace testmap::plan
