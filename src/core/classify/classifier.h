// Static classification: for every test, the services it needs and the reasons,
// from base classes, markers, fixtures, paths and calls (docs/config.md).
#pragma once

#include "core/classify/project.h"
#include "core/classify/result.h"
#include "core/config/config.h"

namespace testmap::classify {

// Classifies every test of an already scanned project.
// `threads`: 0 for one per core.
Classification classify(const config::Config& cfg, const Project& project, unsigned threads = 0);

// Loads the config at `root`, scans the tree and classifies it.
// `runtime`: what recorded runs saw, merged in (merge.h); null for the source alone.
Classification classify_root(const std::string& root, unsigned threads = 0,
                             const RuntimeUses* runtime = nullptr);

// The tests under `within` as pytest collects them when given those paths: testpaths
// do not apply, and the paths themselves are never ignored. Empty `within`: classify_root.
Classification classify_paths(const std::string& root, const std::vector<std::string>& within,
                              unsigned threads = 0, const RuntimeUses* runtime = nullptr);

}  // namespace testmap::classify
