// The SQLite test map in `.testmap/testmap.db` under the repository root.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "core/classify/result.h"
#include "core/runtime/results.h"

namespace testmap::store {

using classify::RuntimeUse;

class Store {
 public:
  // Opens (creating or rebuilding as needed) the store at `path`; check ok().
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  bool ok() const { return db_ != nullptr; }
  const std::string& error() const { return error_; }
  // Set when an old or broken store was found and rebuilt.
  const std::string& notice() const { return notice_; }
  sqlite3* db() { return db_; }

  // Replaces the static classification with `c`; false with error() on failure.
  bool replace_static(const classify::Classification& c);
  // Adds a recorded run: each test's runtime services replace what an earlier run
  // recorded for it; durations are appended. False with error() on failure.
  // `kind` names the run: record (under the shim), pytest (durations only), import.
  bool merge_runtime(const std::vector<runtime::TestRecord>& records,
                     const std::string& kind = "record");
  // What runs recorded, by test id (without parametrize ids).
  classify::RuntimeUses runtime_uses();
  // Per test id, the seconds of its most recent `n` runs (parametrized variants summed per
  // run), newest first; skipped runs left out.
  std::map<std::string, std::vector<double>> recent_durations(int n);
  // The same per variant, keyed by pytest's node id with the parametrize id ("t.py::t[1]"):
  // what pytest-split reads. A test with recorded variants is not listed without one.
  std::map<std::string, std::vector<double>> recent_variant_durations(int n);

 private:
  bool exec(const char* sql);
  bool open_and_check(const std::string& path);

  sqlite3* db_ = nullptr;
  std::string error_;
  std::string notice_;
};

std::string default_path(const std::string& root);

// What recorded runs saw, from the root's store; empty when there is no store yet.
classify::RuntimeUses load_runtime_uses(const std::string& root, std::string* error);

// Convenience for front ends: opens the root's store and saves `c`.
bool save_classification(const classify::Classification& c, std::string* error);

}  // namespace testmap::store
