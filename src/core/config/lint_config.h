// Reading [tool.testmap.lint] from the TOML document (config.cc calls it).
#pragma once

#include <string>

#include <toml++/toml.h>

#include "core/config/lint_rules.h"

namespace testmap::config {

// Reads [tool.testmap.lint] (`node`, from `file`) into `out`; each problem becomes a
// diagnostic with its line and key.
void load_lint_table(const toml::node& node, const std::string& file, LintRules& out,
                     Diagnostics& diags);

}  // namespace testmap::config
