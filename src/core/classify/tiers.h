// Tiers: the distinct service sets of a classification, named, merged as
// `[tool.testmap.tiers]` says, and summarised for the table.
#pragma once

#include <string>
#include <vector>

#include "core/classify/result.h"
#include "core/config/config.h"

namespace testmap::classify {

// `no_services`, `postgres_only`, `postgres_redis`.
std::string tier_name(const std::vector<std::string>& services);

// Sets every test's tier and fills the summaries and per-service counts.
void assign_tiers(const config::Config& cfg, Classification& c);

}  // namespace testmap::classify
