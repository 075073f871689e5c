// From what a recording run traced (files and code names per test) to what the store
// keeps: each test's units with their hashes, and the state of the tree then.
#pragma once

#include <string>
#include <vector>

#include "core/runtime/results.h"
#include "core/store/store.h"

namespace testmap::select {

// Saves the dependencies of the records that have them (none: nothing to do) as one
// recording run; false with *error when the store would not take them.
// `outside`: the code that ran outside every test (imports at collection, between tests),
// as (file, co_qualname), kept in the run's state so that a change to it reaches every
// importer of its file.
bool save_recorded_deps(store::Store& s, const std::vector<runtime::TestRecord>& records,
                        const std::string& root, std::string* error,
                        const std::vector<std::pair<std::string, std::string>>& outside = {});

// The files whose change can change every test: pytest's and packaging's config,
// requirements and lock files, in the root; the files `run_all_when` globs match
// ([tool.testmap.affected]); and every conftest.py. Paths relative to the root.
std::vector<std::string> watched_files(const std::string& root,
                                       const std::vector<std::string>& conftests,
                                       const std::vector<std::string>& run_all_when = {});

// The content hash of a file (0 when it cannot be read).
uint64_t content_hash(const std::string& path);

}  // namespace testmap::select
