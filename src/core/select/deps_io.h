// A recording's dependencies as a file: `testmap deps export` on each CI machine, `testmap
// deps import` where the machines' maps are gathered (docs/affected.md, "In CI").
#pragma once

#include <string>
#include <vector>

#include "core/store/store.h"

namespace testmap::select {

struct ImportedRun {
  store::RunFiles files;
  std::vector<store::TestDeps> tests;
};

// The snapshot as JSON text: {"testmap_deps": 1, "runs": [{"modules", "watched", "tests"}]},
// hashes as 16 hex digits (a JSON number loses the low bits of a 64-bit hash).
std::string deps_json_text(const store::DepsSnapshot& snap);

// Parses what deps_json_text wrote. False with *error (one line, with the JSON position or
// the key) when it is not such a file.
bool parse_deps_json(const std::string& text, std::vector<ImportedRun>* out, std::string* error);

}  // namespace testmap::select
