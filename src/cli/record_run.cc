// Running pytest under the preload shim and merging what it recorded into the store:
// `testmap record` and `testmap init --record`.
#include "cli/record_run.h"

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli/child.h"
#include "cli/commands.h"
#include "core/runtime/code_version.h"
#include "core/runtime/merge_run.h"
#include "core/runtime/run_dir.h"
#include "core/util/diagnostic.h"

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

}  // namespace

int record_run(const char* name, const RecordRun& opts, std::string* recorded_root) {
  std::string shim = opts.fallback ? "" : find_shim();
  if (!opts.fallback && shim.empty())
    fmt::print(stderr,
               "testmap {}: warning: {} not found (set TESTMAP_PRELOAD); recording with "
               "Python's socket module, which cannot see C-library traffic\n",
               name, kShim);
  std::error_code ec;
  runtime::RunDir run_dir;
  if (!run_dir.ok()) {
    fmt::print(stderr, "testmap {}: {}\n", name, run_dir.error());
    return kExitUsage;
  }
  fs::path dir = run_dir.path();
  // The code this run tests, taken before it starts: the tree may change while it runs.
  std::ofstream(dir / "code.txt") << runtime::code_version(".");
  if (!shim.empty()) {
    const char* old = getenv("LD_PRELOAD");
    std::string preload = old && *old ? shim + " " + old : shim;
    setenv("LD_PRELOAD", preload.c_str(), 1);
  }
  setenv("TESTMAP_RECORD_DIR", dir.c_str(), 1);
  unsetenv("TESTMAP_SHM");  // a region of an outer run must not catch this one's traffic
  // Nor may an outer --testmap-durations run claim this run's pytest, or an outer
  // --testmap-deps run's test (that started this command) take it for a pytest it started.
  for (const char* name : {"TESTMAP_DURATIONS", "TESTMAP_RUN_OWNER", "TESTMAP_DEPS_CHILD",
                           "TESTMAP_DEPS_ROOT", "TESTMAP_DEPS_OPENS"})
    unsetenv(name);
  if (opts.enforce) setenv("TESTMAP_ENFORCE", "1", 1);
  if (opts.deps) setenv("TESTMAP_DEPS", "1", 1);
  if (opts.fallback || shim.empty()) setenv("TESTMAP_FALLBACK", "1", 1);

  int rc = run_child(opts.command);

  std::string root = runtime::recorded_root(dir.string());
  if (recorded_root) *recorded_root = root;
  if (root.empty()) {
    fmt::print(stderr,
               "testmap {}: pytest recorded nothing (did the testmap plugin load? "
               "is -p no:testmap set?)\n",
               name);
    fs::remove_all(dir, ec);
    return rc == 0 ? kExitCheckFailed : rc;
  }
  runtime::adopt_killed_runs(root, dir.string());
  runtime::MergeSummary m = runtime::merge_runs(root, dir.string(), "record");
  for (const auto& msg : m.messages) fmt::print(stderr, "testmap {}: {}\n", name, msg);
  if (!m.ok && rc == 0) rc = kExitCheckFailed;
  // In classify's words: a test is a node id without parametrize ids.
  std::string services;
  for (const auto& s : m.services) services += (services.empty() ? "" : ", ") + s;
  std::string tests = fmt::format("{} tests", m.test_ids.size());
  if (m.tests != m.test_ids.size())
    tests += fmt::format(" ({} with their parametrized variants)", m.tests);
  fmt::print(stderr, "testmap {}: {} recorded; {} of them used services{}{}\n", name, tests,
             m.with_services.size(), services.empty() ? "" : ": ", services);
  if (!m.external_tests.empty()) {
    std::string addrs;
    size_t shown = 0;
    for (const auto& a : m.external)
      if (shown++ < 5) addrs += (addrs.empty() ? "" : ", ") + a;
    if (m.external.size() > 5) addrs += fmt::format(" and {} more", m.external.size() - 5);
    fmt::print(
        stderr,
        "testmap {}: {} reached addresses that no service declares or names (external): {}\n", name,
        m.external_tests.size() == 1 ? "1 test" : fmt::format("{} tests", m.external_tests.size()),
        addrs);
    fmt::print(stderr,
               "testmap {}: name a server by its program or address with "
               "[tool.testmap.services.NAME] processes = [\"PROGRAM\"], ports or hosts "
               "(docs/runtime.md)\n",
               name);
  }
  return rc;
}

}  // namespace testmap::cli
