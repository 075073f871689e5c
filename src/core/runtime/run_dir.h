// The directory a `testmap record` run hands to pytest (TESTMAP_RECORD_DIR), and the
// directories of runs that were killed before they could merge theirs.
#pragma once

#include <string>

namespace testmap::runtime {

// A run's directory under the temp directory, holding a lock for as long as this process
// lives: the lock is what tells a killed run's directory from a running one's.
class RunDir {
 public:
  // Creates it; check ok() and error().
  RunDir();
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  bool ok() const { return lock_fd_ >= 0; }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  std::string error_;
  int lock_fd_ = -1;
};

// Moves the directories of killed runs that recorded tests under `root` into
// <root>/.testmap/pending/, where merge_runs takes them; returns how many it moved.
// Runs still alive (their lock held) and other roots' runs are left alone.
int adopt_killed_runs(const std::string& root, const std::string& mine);

}  // namespace testmap::runtime
