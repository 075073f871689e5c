// `testmap bisect NODEID`: a test that fails after others and passes alone; replay what ran
// before it and narrow that down to the test (or tests) that make it fail (docs/bisect.md).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdlib.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli/child.h"
#include "cli/commands.h"
#include "cli/root_args.h"
#include "core/bisect/ddmin.h"
#include "core/store/store.h"
#include "core/util/git.h"

namespace testmap::cli {
namespace fs = std::filesystem;
namespace {

struct Options {
  std::string nodeid;
  RootArgs root;
  long long run = 0;
  std::string from;
  int max_trials = 60;
  bool json = false;
  std::vector<std::string> command;
};

// `python -m pytest` with the interpreter beside this executable (a venv's bin), else the
// first python3 on PATH.
std::vector<std::string> default_command() {
  std::error_code ec;
  fs::path python = fs::read_symlink("/proc/self/exe", ec).parent_path() / "python";
  return {!ec && fs::exists(python, ec) ? python.string() : "python3", "-m", "pytest"};
}

// Runs the test after `before` in one pytest process and reads its outcome.
class Trials {
 public:
  Trials(const Options& o, std::string root, fs::path dir)
      : o_(o), root_(std::move(root)), dir_(std::move(dir)) {}

  bisect::Verdict operator()(const std::vector<std::string>& before) {
    ++runs_;
    fs::path order = dir_ / "order.txt", log = dir_ / fmt::format("run-{}.log", runs_);
    std::set<std::string> files;
    std::vector<std::string> args = o_.command;
    {
      std::ofstream out(order);
      for (const auto& id : before) out << id << '\n';
      out << o_.nodeid << '\n';
    }
    args.insert(args.end(), {"-p", "no:cacheprovider", "-p", "no:randomly", "-q", "--testmap-order",
                             order.string()});
    // Only their files are collected: a trial of a few tests takes a second, not a minute.
    auto add_file = [&](const std::string& id) {
      std::string file = id.substr(0, id.find("::"));
      if (files.insert(file).second) args.push_back(file);
    };
    for (const auto& id : before) add_file(id);
    add_file(o_.nodeid);
    // A run that stops before the plugin starts writes none: never read an earlier one's.
    fs::path outcomes = order.string() + ".outcomes";
    std::error_code ec;
    fs::remove(outcomes, ec);
    last_exit_ = run_child(args, {root_, log.string()});
    last_log_ = log.string();
    std::ifstream in(outcomes);
    std::string line, outcome;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      auto text = [&](const char* key) {  // a line of another shape is not this test's
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      if (j.is_object() && text("nodeid") == o_.nodeid) outcome = text("outcome");
    }
    if (outcome == "failed" || outcome == "error") return bisect::Verdict::kFails;
    if (outcome == "passed" || outcome == "skipped") return bisect::Verdict::kPasses;
    return bisect::Verdict::kUnresolved;
  }

  int runs() const { return runs_; }
  // The end of the last run's output, for a run that did not get to the test.
  std::string tail() const {
    std::ifstream in(last_log_);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    size_t cut = text.size() > 3000 ? text.find('\n', text.size() - 3000) : 0;
    return fmt::format("exit {}; the end of its output:\n{}", last_exit_,
                       text.substr(cut == std::string::npos ? 0 : cut));
  }

 private:
  const Options& o_;
  std::string root_;
  fs::path dir_;
  int runs_ = 0;
  int last_exit_ = 0;
  std::string last_log_;
};

// The tests listed in `path` (a node id a line) before `nodeid`; all of them when it is not
// listed. A test listed twice counts once, where it is first: one process runs it once.
bool read_list(const std::string& path, const std::string& nodeid, std::vector<std::string>* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  std::set<std::string> seen;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line == nodeid) break;
    if (seen.insert(line).second) out->push_back(line);
  }
  return true;
}

std::string tests(size_t n) {
  return n == 1 ? "1 test" : fmt::format("{} tests", n);
}

std::string shell_quote(const std::string& s) {
  if (s.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@") ==
      std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Keeps what was found for `testmap report`; the answer stands when the store refuses it.
void keep_finding(const std::string& root, const Options& o, long long run_id,
                  const bisect::Minimized& m, int pytest_runs, const std::string& reproduce) {
  store::Polluter p;
  p.test = o.nodeid;
  p.polluters = m.polluters;
  p.found =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  p.run_id = run_id;
  util::GitResult head = util::git(root, {"rev-parse", "--verify", "-q", "HEAD"});
  if (head.ran && head.status == 0) p.commit = head.out.substr(0, head.out.find('\n'));
  p.minimal = !m.exhausted;
  p.pytest_runs = pytest_runs;
  p.reproduce = reproduce;
  store::Store s(store::default_path(root));
  if (!s.ok() || !s.save_polluter(p))
    fmt::print(stderr, "testmap bisect: warning: not kept for the report: the store {}: {}\n",
               store::default_path(root), s.error());
}

int bisect_main(Options& o) {
  auto found_root = resolve_store_root("bisect", o.root);
  if (!found_root) return kExitUsage;
  std::string root = *found_root;
  std::vector<std::string> before;
  std::string source;
  store::RunOrder order;
  if (!o.from.empty()) {
    if (!read_list(o.from, o.nodeid, &before)) {
      fmt::print(stderr, "testmap bisect: cannot read {}\n", o.from);
      return kExitUsage;
    }
    source = fmt::format("the tests listed before it in {}", o.from);
  } else {
    store::Store s(store::default_path(root), store::Access::kRead);
    bool found = false;
    if (s.missing() || !s.ok() || !s.order_before(o.nodeid, o.run, &order, &found)) {
      fmt::print(stderr, "testmap bisect: the store {}: {}\n", store::default_path(root),
                 s.missing() ? "nothing recorded yet" : s.error());
      return kExitUsage;
    }
    if (!found) {
      fmt::print(stderr,
                 "testmap bisect: no recorded run {} {} with the order its tests ran in; record "
                 "one with `pytest --testmap-durations` (or `testmap record`), or give the "
                 "order with --from FILE\n",
                 o.run ? fmt::format("{} ran", o.run) : std::string("where"),
                 o.run ? o.nodeid : o.nodeid + " failed");
      return kExitUsage;
    }
    before = order.before;
    source = fmt::format("the {} {} ran before it in run {}", tests(before.size()), order.worker,
                         order.run_id);
  }
  std::erase(before, o.nodeid);
  if (o.command.empty()) o.command = default_command();
  char tmpl[] = "/tmp/testmap-bisect-XXXXXX";
  if (!mkdtemp(tmpl)) {
    fmt::print(stderr, "testmap bisect: cannot make a temporary directory: {}\n", strerror(errno));
    return kExitUsage;
  }
  fs::path dir = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};
  // Trials are not runs of the suite: an outer `testmap record` must not record them.
  for (const char* name : {"TESTMAP_RECORD_DIR", "TESTMAP_DURATIONS", "TESTMAP_DEPS", "TESTMAP_SHM",
                           "TESTMAP_ENFORCE", "PYTEST_XDIST_WORKER", "TESTMAP_RUN_OWNER",
                           "TESTMAP_DEPS_CHILD", "TESTMAP_DEPS_ROOT", "TESTMAP_DEPS_OPENS"})
    unsetenv(name);
  Trials trial(o, root, dir);
  auto say = [&](const std::string& line) {
    if (!o.json) fmt::print(stderr, "testmap bisect: {}\n", line);
  };

  say(fmt::format("{}: running it alone", o.nodeid));
  bisect::Verdict alone = trial({});
  if (alone == bisect::Verdict::kUnresolved) {
    fmt::print(stderr, "testmap bisect: {} did not run alone ({})\n", o.nodeid, trial.tail());
    return kExitUsage;
  }
  if (alone == bisect::Verdict::kFails) {
    fmt::print(stderr,
               "testmap bisect: {} fails alone: it needs no other test to fail, so there is no "
               "polluter to find\n",
               o.nodeid);
    return kExitCheckFailed;
  }
  say(fmt::format("it passes alone; running it after {}", source));
  bisect::Verdict after = before.empty() ? bisect::Verdict::kPasses : trial(before);
  if (after == bisect::Verdict::kUnresolved) {
    fmt::print(stderr, "testmap bisect: {} did not run after them ({})\n", o.nodeid, trial.tail());
    return kExitUsage;
  }
  if (after == bisect::Verdict::kPasses) {
    fmt::print(stderr,
               "testmap bisect: {} passes after {} too: the failure does not reproduce in this "
               "order (flaky, or it needs something else: another worker, the time, a service)\n",
               o.nodeid, source);
    return kExitCheckFailed;
  }
  int confirm = trial.runs();
  say(fmt::format("it fails after them; bisecting {}", tests(before.size())));
  bisect::Minimized m = bisect::ddmin(before, std::ref(trial), o.max_trials);

  std::vector<std::string> command = o.command;
  command.insert(command.end(), {"-p", "no:randomly"});
  command.insert(command.end(), m.polluters.begin(), m.polluters.end());
  command.push_back(o.nodeid);
  std::vector<std::string> quoted;
  for (const auto& a : command) quoted.push_back(shell_quote(a));
  std::string reproduce = fmt::format("cd {} && {}", shell_quote(root), fmt::join(quoted, " "));

  store::SharedUse shared;
  if (m.polluters.size() == 1) {
    store::Store s(store::default_path(root), store::Access::kRead);
    if (!s.missing() && s.ok()) s.shared_use(m.polluters[0], o.nodeid, &shared);
  }
  int bisecting = trial.runs() - confirm;
  keep_finding(root, o, order.run_id, m, trial.runs(), reproduce);
  if (o.json) {
    nlohmann::json j = {{"test", o.nodeid},
                        {"source", source},
                        {"candidates", before.size()},
                        {"polluters", m.polluters},
                        {"pytest_runs", trial.runs()},
                        {"minimal", !m.exhausted},
                        {"reproduce", reproduce},
                        {"shared", {{"services", shared.services}, {"code", shared.code}}}};
    if (!o.from.empty()) j["from"] = o.from;
    if (order.run_id) j["run"] = order.run_id, j["worker"] = order.worker;
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  fmt::print("{} {}: {}\n", m.polluters.size() == 1 ? "polluter" : "polluters, all needed",
             m.exhausted ? "(not minimal: --max-trials reached)" : "for " + o.nodeid,
             fmt::join(m.polluters, ", "));
  fmt::print("found in {} pytest runs ({} to confirm, {} to bisect {})\n", trial.runs(), confirm,
             bisecting, tests(before.size()));
  fmt::print("reproduce: {}\n", reproduce);
  if (!shared.services.empty())
    fmt::print("both used (recorded): {}\n", fmt::join(shared.services, ", "));
  if (!shared.code.empty()) {
    size_t shown = std::min<size_t>(shared.code.size(), 8);
    fmt::print(
        "both ran (recorded): {}{}\n",
        fmt::join(shared.code.begin(), shared.code.begin() + static_cast<long>(shown), ", "),
        shared.code.size() > shown ? fmt::format(" and {} more", shared.code.size() - shown) : "");
  }
  return kExitOk;
}

}  // namespace

void register_bisect(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "bisect", "Find the test that makes another fail when it runs first (a polluter)");
  cmd->add_option("nodeid", o->nodeid, "The failing test, as pytest names it")->required();
  cmd->add_option("--root", o->root.rootdir,
                  "The project's root, where the store is (default: found as pytest finds its "
                  "rootdir)");
  cmd->add_option("--run", o->run,
                  "The recorded run to replay (default: the newest in which the test failed)");
  cmd->add_option("--from", o->from,
                  "Replay the tests listed in this file (a node id a line) before the test, "
                  "instead of a recorded run")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-trials", o->max_trials, "Stop bisecting after this many pytest runs")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the result as JSON");
  cmd->add_option("command", o->command,
                  "The pytest command, after -- (default: python -m pytest, with the python "
                  "beside testmap)")
      ->expected(-1);
  cmd->footer(
      "Record the order tests run in with `pytest --testmap-durations` (or `testmap record`).\n"
      "Example: testmap bisect tests/test_b.py::test_reads -- python -m pytest -x\n"
      "See docs/bisect.md.");
  cmd->callback([o, &exit_code] { exit_code = bisect_main(*o); });
}

}  // namespace testmap::cli
