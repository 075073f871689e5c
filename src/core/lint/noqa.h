// `# noqa` on a finding's line: bare, it silences every code; `# noqa: TM101, TM105`
// only those (as flake8 and ruff read it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/lint/finding.h"

namespace testmap::lint {

// Whether the source line `text` silences `code`.
bool noqa_silences(std::string_view text, std::string_view code);

// Drops the findings their line silences; files are read from under `root`.
void drop_silenced(std::vector<Finding>& findings, const std::string& root);

}  // namespace testmap::lint
