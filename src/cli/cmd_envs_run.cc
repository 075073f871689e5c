// `testmap envs run`: nox's sessions side by side on the runner's cores, as `tox run-parallel`
// runs tox's environments (nox runs one at a time), each session's output printed whole when
// it ends, and each one's seconds written as tox's result JSON for `testmap durations import`.
// Their installs run one at a time first: `pip install .` builds in the source tree, and two
// builds there at once collide (tox builds the package once for the same reason).
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

// Prints a finished session's output (its install's, then its run's), between lines that say
// which it was and how it went.
void print_log(const std::string& name, const Outcome& o, const std::vector<std::string>& logs) {
  std::string text;
  for (const auto& log : logs) {
    std::ifstream in(log, std::ios::binary);
    text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
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
      "run",
      "Run nox sessions: their installs one at a time, then the sessions side by side, as many "
      "at once as the runner has cores");
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
    auto install_log = [&](size_t i) { return (logs / fmt::format("{}-install.log", i)).string(); };
    auto run_log = [&](size_t i) { return (logs / fmt::format("{}.log", i)).string(); };
    auto log_of = [&](size_t i) { return std::vector<std::string>{install_log(i), run_log(i)}; };
    // The installs, one at a time; a session whose install fails does not run.
    std::vector<size_t> ready;
    std::vector<double> install_seconds(n, 0);
    for (size_t i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      int code = run_child({o->nox, "-s", o->sessions[i], "--install-only"}, {"", install_log(i)});
      install_seconds[i] = std::chrono::duration<double>(Clock::now() - t0).count();
      if (code == 0) {
        ready.push_back(i);
        continue;
      }
      outcomes[i] = {code, install_seconds[i]};
      print_log(o->sessions[i], outcomes[i], log_of(i));
    }
    // The runs side by side, in the virtualenvs just made, installing nothing more (-R).
    size_t next = 0;
    while (next < ready.size() || !running.empty()) {
      while (running.size() < jobs && next < ready.size()) {
        size_t i = ready[next++];
        started[i] = Clock::now();
        pid_t pid = spawn_child({o->nox, "-s", o->sessions[i], "-R"}, {"", run_log(i)});
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
      outcomes[i].seconds =
          install_seconds[i] + std::chrono::duration<double>(Clock::now() - started[i]).count();
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
