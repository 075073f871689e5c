// The schedule of a pytest collection from the store under the repository root: durations
// of the newest runs, and shared set-up from the order recorded runs ran tests in.
#pragma once

#include <string>
#include <vector>

#include "core/schedule/units.h"

namespace testmap::schedule {

// False with *error (one line, naming the store) when the store cannot be read. A missing
// store is no error: every test is then estimated, and units keep the collection order.
bool schedule_from_store(const std::string& root, const std::vector<std::string>& nodeids,
                         int workers, Schedule* out, std::string* error);

}  // namespace testmap::schedule
