// `testmap envs run`: nox's sessions side by side on the runner's cores, as `tox run-parallel`
// runs tox's environments (nox runs one at a time), each session's output printed whole when
// it ends, and each one's seconds written as tox's result JSON for `testmap durations import`.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/child.h"
#include "cli/commands.h"

namespace testmap::cli {
namespace {

struct Outcome {
  int code = -1;
  double seconds = 0;
};

// Prints a finished session's output, between lines that say which it was and how it went.
void print_log(const std::string& name, const Outcome& o, const std::string& log) {
  std::ifstream in(log, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fmt::print("--- nox -s {}: {} in {:.1f} s ---\n{}", name,
             o.code == 0 ? "passed" : fmt::format("failed (exit {})", o.code), o.seconds, text);
  if (!text.empty() && text.back() != '\n') fmt::print("\n");
  std::fflush(stdout);
}

}  // namespace

void register_envs_run(CLI::App& envs, int& exit_code) {
  struct Options {
    std::vector<std::string> sessions;
    unsigned jobs = 0;
    std::string result_json;
    std::string nox = "nox";
  };
  auto o = std::make_shared<Options>();
  auto* cmd = envs.add_subcommand(
      "run", "Run nox sessions side by side, as many at once as the runner has cores");
  cmd->add_option("sessions", o->sessions, "The sessions, as nox lists them")->required();
  cmd->add_option("-j,--jobs", o->jobs, "Sessions at once (default: the number of cores)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--result-json", o->result_json,
                  "Write each session's seconds and outcome here, in tox's result JSON format "
                  "(testmap durations import reads it)");
  cmd->add_option("--nox", o->nox, "The nox to run")->capture_default_str();
  cmd->footer(
      "Exit status: 0 when every session passed, else the first failure's. See "
      "docs/envs.md.");
  cmd->callback([o, &exit_code] {
    namespace fs = std::filesystem;
    using Clock = std::chrono::steady_clock;
    unsigned jobs = o->jobs ? o->jobs : std::max(1u, std::thread::hardware_concurrency());
    std::string tmpl = (fs::temp_directory_path() / "testmap-envs-run-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      fmt::print(stderr, "testmap envs run: cannot make a directory for the logs: {}\n",
                 std::strerror(errno));
      exit_code = kExitUsage;
      return;
    }
    const fs::path logs = tmpl;
    const size_t n = o->sessions.size();
    std::vector<Outcome> outcomes(n);
    std::vector<Clock::time_point> started(n);
    std::map<pid_t, size_t> running;
    auto log_of = [&](size_t i) { return (logs / fmt::format("{}.log", i)).string(); };
    size_t next = 0;
    while (next < n || !running.empty()) {
      while (running.size() < jobs && next < n) {
        size_t i = next++;
        started[i] = Clock::now();
        pid_t pid = spawn_child({o->nox, "-s", o->sessions[i]}, {"", log_of(i)});
        if (pid < 0) {
          outcomes[i].code = 127;
          print_log(o->sessions[i], outcomes[i], log_of(i));
          continue;
        }
        running[pid] = i;
      }
      if (running.empty()) continue;
      int status = 0;
      pid_t pid = waitpid(-1, &status, 0);
      if (pid < 0) {
        if (errno == EINTR) continue;
        // No child left to wait for (ECHILD): the sessions still listed never reported.
        for (const auto& [lost, i] : running) {
          outcomes[i].code = 1;
          print_log(o->sessions[i], outcomes[i], log_of(i));
        }
        running.clear();
        continue;
      }
      auto it = running.find(pid);
      if (it == running.end()) continue;
      size_t i = it->second;
      running.erase(it);
      outcomes[i].code = exit_code_of(status);
      outcomes[i].seconds = std::chrono::duration<double>(Clock::now() - started[i]).count();
      print_log(o->sessions[i], outcomes[i], log_of(i));
    }
    fs::remove_all(logs);
    size_t failed = 0;
    nlohmann::json envs = nlohmann::json::object();
    for (size_t i = 0; i < n; ++i) {
      const Outcome& r = outcomes[i];
      if (r.code != 0) {
        ++failed;
        if (exit_code == kExitOk) exit_code = r.code;
      }
      envs[o->sessions[i]] = {
          {"result", {{"success", r.code == 0}, {"exit_code", r.code}, {"duration", r.seconds}}}};
    }
    fmt::print("\n");
    for (size_t i = 0; i < n; ++i)
      fmt::print(
          "  {}: {} ({:.1f} s)\n", o->sessions[i],
          outcomes[i].code == 0 ? "passed" : fmt::format("failed, exit {}", outcomes[i].code),
          outcomes[i].seconds);
    fmt::print("{} of {} session{} passed\n", n - failed, n, n == 1 ? "" : "s");
    if (!o->result_json.empty()) {
      std::ofstream out(o->result_json);
      out << nlohmann::json({{"tool", "nox"}, {"testenvs", envs}}).dump(2) << "\n";
      if (!out) {
        fmt::print(stderr, "testmap envs run: cannot write {}\n", o->result_json);
        if (exit_code == kExitOk) exit_code = kExitUsage;
      }
    }
  });
}

}  // namespace testmap::cli
