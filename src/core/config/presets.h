// The services testmap knows without configuration and the rule presets users
// switch on by name (docs/config.md, "Built-in services and presets").
#pragma once

#include <string>

#include "core/config/config.h"

namespace testmap::config {

void add_builtin_services(Config& cfg);
bool is_known_preset(const std::string& name);
void apply_preset(const std::string& name, Config& cfg);

}  // namespace testmap::config
