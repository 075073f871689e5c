// The draft of `testmap init` as a commented [tool.testmap] section, and that section
// added to pyproject.toml's text without changing a byte of what is there.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/init/draft.h"

namespace testmap::init {

// The section: every service with where it was seen and why each rule is there, what is
// already configured as comments only, and the open questions last.
std::string render(const Draft& d);

// The draft as JSON (`testmap init --json`): services with their ports and rules (kind,
// name, tests, why), presets, questions.
nlohmann::json to_json(const Draft& d);

// `existing` (may be empty: no pyproject.toml yet) with `section` after it. False, with
// `*error`, when the result would not be valid TOML (a key the file already defines).
bool append_section(const std::string& existing, const std::string& section, std::string* out,
                    std::string* error);

}  // namespace testmap::init
