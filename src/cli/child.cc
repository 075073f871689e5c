// Running a command as a child of testmap (cli/child.h).
#include "cli/child.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace testmap::cli {
namespace {

pid_t child_pid = 0;

void forward_signal(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

}  // namespace

pid_t spawn_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    fmt::print(stderr, "testmap: cannot fork: {}\n", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    // pytest dies with testmap, even one killed with SIGKILL: an orphaned run would go on
    // using the services and its results would never be merged by anyone.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(128 + SIGTERM);  // testmap died before prctl
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) {
      fmt::print(stderr, "testmap: cannot enter {}: {}\n", options.cwd, strerror(errno));
      _exit(127);
    }
    if (!options.output.empty()) {
      int fd = open(options.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(127);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fmt::print(stderr, "testmap: cannot run {}: {}\n", argv[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int run_child(const std::vector<std::string>& argv, const ChildOptions& options) {
  pid_t pid = spawn_child(argv, options);
  if (pid < 0) return 127;
  child_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  child_pid = 0;
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  return exit_code_of(status);
}

}  // namespace testmap::cli
