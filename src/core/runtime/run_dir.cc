// Run directories with a lock held for the run's life (flock is released by the kernel
// when the process dies, SIGKILL included), and the adoption of killed runs' results.
#include "core/runtime/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "core/runtime/merge_run.h"

namespace testmap::runtime {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "testmap-record-";
constexpr const char* kLock = "lock";

}  // namespace

RunDir::RunDir() {
  std::error_code ec;
  std::string tmpl = (fs::temp_directory_path(ec) / (std::string(kPrefix) + "XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) {
    error_ = fmt::format("cannot create {}: {}", tmpl, std::strerror(errno));
    return;
  }
  path_ = tmpl;
  // O_CLOEXEC: pytest must not inherit the lock, or a killed testmap would look alive
  // for as long as its orphaned pytest runs.
  int fd = ::open((fs::path(path_) / kLock).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
    error_ = fmt::format("cannot lock {}: {}", path_, std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return;
  }
  lock_fd_ = fd;
}

RunDir::~RunDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

int adopt_killed_runs(const std::string& root, const std::string& mine) {
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  fs::path pending = fs::path(root) / ".testmap" / "pending";
  std::vector<fs::path> candidates;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().starts_with(kPrefix) && it->path() != fs::path(mine))
      candidates.push_back(it->path());
  int moved = 0;
  for (const auto& dir : candidates) {
    // A directory without a lock file is from a testmap before run locks: not ours to judge.
    int fd = ::open((dir / kLock).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) continue;
    bool dead = flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    if (!dead || recorded_root(dir.string()) != root) continue;
    std::error_code mec;
    fs::create_directories(pending, mec);
    fs::path to = pending / dir.filename();
    fs::rename(dir, to, mec);
    if (mec) {  // another filesystem: copy, then remove
      mec.clear();
      fs::copy(dir, to, fs::copy_options::recursive, mec);
      if (mec) continue;
      fs::remove_all(dir, mec);
    }
    fs::remove(to / kLock, mec);
    ++moved;
  }
  return moved;
}

}  // namespace testmap::runtime
