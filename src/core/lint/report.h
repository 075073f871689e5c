// How `testmap lint` prints what it found: lines as other Python linters print them, JSON,
// and SARIF 2.1.0 for code-scanning annotations.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/lint/finding.h"

namespace testmap::lint {

// `path:line:col: CODE message`, one per line.
std::string to_text(const std::vector<Finding>& findings);

nlohmann::json to_json(const std::vector<Finding>& findings, size_t files_checked);

// `version` is testmap's, for the tool's description.
nlohmann::json to_sarif(const std::vector<Finding>& findings, const std::string& version);

}  // namespace testmap::lint
