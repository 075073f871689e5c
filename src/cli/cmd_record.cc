// `testmap record [--enforce] -- pytest ARGS...`: runs pytest under the preload shim and
// merges what each test used into the store (docs/runtime.md).
#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/runtime/results.h"
#include "core/store/store.h"

namespace testmap::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kShim = "libtestmap_preload.so";

// The shim beside the installed executable (<prefix>/bin -> <prefix>/lib/testmap) or,
// in a build tree, in the same directory. TESTMAP_PRELOAD overrides both.
std::string find_shim() {
  if (const char* env = getenv("TESTMAP_PRELOAD"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& p :
       {exe.parent_path().parent_path() / "lib" / "testmap" / kShim, exe.parent_path() / kShim})
    if (fs::is_regular_file(p, ec)) return p.string();
  return "";
}

pid_t child_pid = 0;

void forward_signal(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

// Runs argv with the environment changes; returns its exit code as a shell would.
int run(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid < 0) {
    fmt::print(stderr, "testmap record: cannot fork: {}\n", strerror(errno));
    return 127;
  }
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    fmt::print(stderr, "testmap record: cannot run {}: {}\n", argv[0], strerror(errno));
    _exit(127);
  }
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
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// The rootdir the plugin reported (meta-<worker>.json), or "".
std::string recorded_root(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("meta-") || it->path().extension() != ".json") continue;
    std::ifstream in(it->path());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("root") && j["root"].is_string()) return j["root"];
  }
  return "";
}

struct Merged {
  size_t tests = 0;
  size_t with_services = 0;
  std::set<std::string> services;
};

// Merges one run directory into the root's store; false (with *error) when it cannot.
bool merge(const fs::path& dir, const std::string& root, Merged* m, std::string* error) {
  Diagnostics diags;
  std::vector<runtime::TestRecord> records = runtime::read_results(dir.string(), &diags);
  for (const auto& d : diags) fmt::print(stderr, "testmap record: {}\n", d.format());
  store::Store s(store::default_path(root));
  if (!s.ok()) {
    *error = fmt::format("cannot use the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  if (!s.notice().empty()) fmt::print(stderr, "testmap record: {}\n", s.notice());
  if (!s.merge_runtime(records)) {
    *error = fmt::format("cannot write the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  for (const auto& r : records) {
    ++m->tests;
    bool any = false;
    for (const auto& [phase, p] : r.phases) {
      for (const auto& svc : p.services) m->services.insert(svc), any = true;
      if (!p.external.empty()) m->services.insert("external"), any = true;
    }
    m->with_services += any;
  }
  return true;
}

}  // namespace

void register_record(CLI::App& app, int& exit_code) {
  struct Options {
    bool enforce = false;
    bool fallback = false;
    std::vector<std::string> command;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "record", "Run pytest under the preload shim and record the services each test uses");
  cmd->add_flag("--enforce", opts->enforce,
                "Refuse connections to services outside each test's tier; such tests fail");
  cmd->add_flag("--fallback", opts->fallback,
                "Use the Python-level socket patch instead of the shim (sees no C-library "
                "traffic)");
  cmd->add_option("command", opts->command, "The pytest command line, after --")
      ->required()
      ->expected(-1);
  cmd->footer(
      "Example: testmap record -- python -m pytest -n 4 tests/\n"
      "Results go into .testmap/testmap.db under pytest's rootdir; see docs/runtime.md.");
  cmd->callback([opts, &exit_code] {
    std::string shim = opts->fallback ? "" : find_shim();
    if (!opts->fallback && shim.empty())
      fmt::print(stderr,
                 "testmap record: warning: {} not found (set TESTMAP_PRELOAD); recording with "
                 "Python's socket module, which cannot see C-library traffic\n",
                 kShim);
    std::error_code ec;
    std::string tmpl = (fs::temp_directory_path(ec) / "testmap-record-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      fmt::print(stderr, "testmap record: cannot create {}: {}\n", tmpl, strerror(errno));
      exit_code = kExitUsage;
      return;
    }
    fs::path dir = tmpl;
    if (!shim.empty()) {
      const char* old = getenv("LD_PRELOAD");
      std::string preload = old && *old ? shim + " " + old : shim;
      setenv("LD_PRELOAD", preload.c_str(), 1);
    }
    setenv("TESTMAP_RECORD_DIR", dir.c_str(), 1);
    unsetenv("TESTMAP_SHM");  // a region of an outer run must not catch this one's traffic
    if (opts->enforce) setenv("TESTMAP_ENFORCE", "1", 1);
    if (opts->fallback || shim.empty()) setenv("TESTMAP_FALLBACK", "1", 1);

    int rc = run(opts->command);

    std::string root = recorded_root(dir);
    if (root.empty()) {
      fmt::print(stderr,
                 "testmap record: pytest recorded nothing (did the testmap plugin load? "
                 "is -p no:testmap set?)\n");
      fs::remove_all(dir, ec);
      exit_code = rc == 0 ? kExitCheckFailed : rc;
      return;
    }
    // Runs an earlier record could not merge wait in .testmap/pending/.
    fs::path pending = fs::path(root) / ".testmap" / "pending";
    std::vector<fs::path> runs;
    for (fs::directory_iterator it(pending, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_directory()) runs.push_back(it->path());
    std::sort(runs.begin(), runs.end());
    runs.push_back(dir);
    Merged m;
    for (const auto& r : runs) {
      std::string error;
      if (merge(r, root, &m, &error)) {
        fs::remove_all(r, ec);
        continue;
      }
      fmt::print(stderr, "testmap record: {}\n", error);
      if (r == dir) {
        fs::path keep = pending / dir.filename();
        fs::create_directories(pending, ec);
        fs::rename(dir, keep, ec);
        if (ec) {  // another filesystem: copy
          fs::copy(dir, keep, fs::copy_options::recursive, ec);
          fs::remove_all(dir, ec);
        }
        fmt::print(stderr,
                   "testmap record: the results are kept in {}; the next `testmap record` "
                   "merges them\n",
                   keep.string());
      }
      if (rc == 0) rc = kExitCheckFailed;
    }
    std::string services;
    for (const auto& s : m.services) services += (services.empty() ? "" : ", ") + s;
    fmt::print(stderr, "testmap record: {} tests recorded, {} used services{}{}\n", m.tests,
               m.with_services, services.empty() ? "" : ": ", services);
    exit_code = rc;
  });
}

}  // namespace testmap::cli
