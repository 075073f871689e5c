// Durations teams already have: pytest-split's `.test_durations` and JUnit XML reports in,
// `.test_durations` out (docs/plan.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/runtime/results.h"
#include "core/util/diagnostic.h"

namespace testmap::plan {

// Reads either format (told apart by the first character). JUnit test cases are mapped to
// node ids through the files under `root`. False with a diagnostic naming the file and line
// when the file cannot be read at all. A value that is not a number of seconds (1e400, inf,
// -1, "abc") is a diagnostic naming the test and the value, counted in *rejected, and the
// rest of the file is still read.
bool import_durations(const std::string& path, const std::string& root,
                      std::vector<runtime::TestRecord>* records, Diagnostics* diagnostics,
                      size_t* rejected);

// The same from the file's text (`path` names it in diagnostics).
bool import_durations_text(const std::string& path, const std::string& text,
                           const std::string& root, std::vector<runtime::TestRecord>* records,
                           Diagnostics* diagnostics, size_t* rejected);

// `{"node id": seconds}`, sorted, as pytest-split writes it.
std::string durations_json_text(const std::map<std::string, double>& durations);

}  // namespace testmap::plan
