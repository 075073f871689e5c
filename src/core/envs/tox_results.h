// tox's result JSON (`tox --result-json FILE`): how long each environment took, set-up and
// commands together, as tox measured it.
#pragma once

#include <string>
#include <tuple>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::envs {

using EnvDuration = std::tuple<std::string, double, bool>;  // name, seconds, success

// Whether `text` is such a file (a JSON object with `testenvs`).
bool is_tox_results(const std::string& text);
// Each environment that ran (skipped ones are left out). False with *error when the file
// is not one.
bool read_tox_results(const std::string& text, const std::string& file,
                      std::vector<EnvDuration>* out, Diagnostic* error);

}  // namespace testmap::envs
