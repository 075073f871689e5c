// The flaky tests of the store under a repository root, for `testmap flaky` and for the
// plugin's quarantine (docs/flaky.md).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/flaky/flaky.h"

namespace testmap::flaky {

// False with *error (naming the store) when it cannot be read; a missing store has none.
// *runs gets the recorded runs compared.
bool flaky_in_store(const std::string& root, std::vector<FlakyTest>* out, std::set<long long>* runs,
                    std::string* error);

}  // namespace testmap::flaky
