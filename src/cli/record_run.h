// Runs a pytest command under the preload shim (or the Python fallback) and merges what
// each test used into the store, printing the summary `testmap record` prints.
#pragma once

#include <string>
#include <vector>

namespace testmap::cli {

struct RecordRun {
  bool enforce = false;
  bool deps = false;
  bool fallback = false;
  std::vector<std::string> command;
};

// The command's exit code (or testmap's, when nothing was recorded or the merge failed);
// `*recorded_root`, when given, is the rootdir pytest recorded for ("" if none).
int record_run(const char* name, const RecordRun& run, std::string* recorded_root);

}  // namespace testmap::cli
