// The SQLite test map in `.testmap/testmap.db` under the repository root.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <sqlite3.h>

#include "core/classify/result.h"
#include "core/flaky/flaky.h"
#include "core/runtime/results.h"

namespace testmap::store {

using classify::RuntimeUse;

class Statement;  // statement.h

// What one test depended on when a run recorded it (pytest --testmap-deps).
struct TestDeps {
  std::string nodeid;   // without parametrize ids: its variants' units together
  std::string outcome;  // the worst of its variants: failed, error, skipped or passed
  struct Unit {
    std::string file, name;
    uint64_t hash = 0;
  };
  std::vector<Unit> units;
  long long run_id = 0;  // when read back: the run that recorded it
};

// Per recording run: each file's module-level hash, and the content hash of the files
// watched whole (config files, conftest.py).
struct RunFiles {
  std::map<std::string, uint64_t> modules;
  std::map<std::string, uint64_t> watched;
};

struct DepsSnapshot {
  std::map<std::string, TestDeps> tests;  // by node id
  std::map<long long, RunFiles> runs;     // by run id
};

// What one pytest process ran before a test, in a recorded run (`testmap bisect`).
struct RunOrder {
  long long run_id = 0;
  std::string worker;               // gw0, gw1, ... or main
  std::string outcome;              // the test's outcome in that run
  std::vector<std::string> before;  // node ids (parametrize ids included), in the order run
};

// One test as a pytest process ran it in a recorded run, for the scheduler's estimate of
// what a module's or class's shared fixtures cost (`--dist testmap`).
struct RanTest {
  std::string nodeid;  // parametrize id included
  double seconds = 0;
};
using WorkerSequence = std::vector<RanTest>;  // one process's tests, in the order it ran them

// What two tests were both seen using in recorded runs.
struct SharedUse {
  std::vector<std::string> services;  // "redis (used in call)", as the store words them
  std::vector<std::string> code;      // "app/cache.py::rates": project code both ran
};

// Tests that make another fail when they run before it, as `testmap bisect` found them.
struct Polluter {
  std::string test;                    // the test that fails after them, parametrize id included
  std::vector<std::string> polluters;  // all needed together, in the order they ran
  double found = 0;                    // unix seconds
  long long run_id = 0;                // the recorded run replayed; 0 when given a list
  std::string commit;                  // HEAD when found, or ""
  bool minimal = true;                 // false when --max-trials stopped the bisection
  int pytest_runs = 0;
  std::string reproduce;  // a shell command that shows the failure
};

// What an opener may do to the file at the store's path. A store is never deleted or
// replaced: a newer, busy or unreadable one is refused; a corrupt one is refused too,
// except by kRebuild, which moves it aside (with a timestamp) and starts a new one.
enum class Access {
  kRead,     // a missing store is not created: missing() and no error
  kWrite,    // a missing store is created
  kRebuild,  // kWrite, and a corrupt store is moved aside: for commands that rewrite it all
};

class Store {
 public:
  // Opens the store at `path` (upgrading an older schema in place); check ok().
  explicit Store(const std::string& path, Access access = Access::kWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  bool ok() const { return db_ != nullptr; }
  // kRead of a store that does not exist yet: nothing was recorded, which is no error.
  bool missing() const { return missing_; }
  // Why the store cannot be used (with the path), or why the last write failed.
  const std::string& error() const { return error_; }
  // Set when a corrupt store was moved aside (kRebuild), naming where it went.
  const std::string& notice() const { return notice_; }
  sqlite3* db() { return db_; }

  // Replaces the static classification with `c`; false with error() on failure.
  bool replace_static(const classify::Classification& c);
  // Adds a recorded run: each test's runtime services replace what an earlier run
  // recorded for it; durations are appended. False with error() on failure.
  // `kind` names the run: record (under the shim), pytest (durations only), import.
  bool merge_runtime(const std::vector<runtime::TestRecord>& records,
                     const std::string& kind = "record", const std::string& code = "");
  // What runs recorded, by test id (without parametrize ids). The readers below return
  // false with error() when the store fails part-way: never a partial answer.
  bool runtime_uses(classify::RuntimeUses* out);
  // Per test id, the seconds of its most recent `n` runs (parametrized variants summed per
  // run), newest first; skipped runs left out.
  bool recent_durations(int n, std::map<std::string, std::vector<double>>* out);
  // The same per variant, keyed by pytest's node id with the parametrize id ("t.py::t[1]"):
  // what pytest-split reads. A test with recorded variants is not listed without one.
  bool recent_variant_durations(int n, std::map<std::string, std::vector<double>>* out);

  // Stores a recording of dependencies as one run: each test's units replace what an
  // earlier run recorded for it; `files` is the state of the tree the run saw.
  bool save_deps(const std::vector<TestDeps>& tests, const RunFiles& files,
                 const std::string& commit);
  // Every test's latest recorded dependencies and the file states of their runs.
  bool load_deps(DepsSnapshot* out);

  // The newest recorded run in which `nodeid` failed or errored (or run `run_id`, when not
  // 0), and what its process ran before it. *found is false when there is none.
  bool order_before(const std::string& nodeid, long long run_id, RunOrder* out, bool* found);
  // What tests `a` and `b` (node ids, parametrize ids ignored) were both seen using.
  bool shared_use(const std::string& a, const std::string& b, SharedUse* out);
  // The tests each process ran, in order, in the newest `runs` runs that recorded it.
  bool worker_sequences(int runs, std::vector<WorkerSequence>* out);
  // Every passed, failed or errored outcome of a run whose code version is known.
  bool comparable_outcomes(std::vector<flaky::Outcome>* out);
  // Adds one tox run's environments (name -> seconds, success) as a run of kind "tox".
  bool save_env_durations(const std::vector<std::tuple<std::string, double, bool>>& envs);
  // Each environment's median seconds over its newest `n` runs.
  bool env_durations(int n, std::map<std::string, double>* out);
  // Adds CI jobs' set-up seconds (testmap-job.json) as a run of kind "job".
  bool save_job_setups(const std::vector<std::tuple<std::string, std::string, double>>& jobs);
  // The median set-up seconds of the newest `n` jobs of this kind (tox, nox, tiers); *count
  // says how many there were (0: none measured, *median unchanged).
  bool job_setup(const std::string& kind, int n, double* median, int* count);
  // Adds what a bisection found; a test's newer finding hides its older ones.
  bool save_polluter(const Polluter& p);
  // The newest finding for each test, newest first.
  bool polluters(std::vector<Polluter>* out);
  // How many runs recorded durations (not static classifications, not runs that stopped
  // before a test ran), and the start and commit of the newest run that recorded durations
  // or dependencies; *runs is 0 without one.
  bool runs_seen(size_t* runs, double* newest, std::string* commit);

 private:
  enum class Opened { kOk, kRefused, kCorrupt };
  bool exec(const char* sql);
  bool nodeids(std::unordered_map<long long, std::string>* out);
  Opened open_and_check(const std::string& path, Access access);
  Opened create_or_upgrade();
  bool query_failed(int rc);
  // One transaction: a run of `kind`, then `rows` writes its rows with `sql` (bound to the
  // run's id). False with error_ ("cannot write WHAT: ...") and nothing kept when one fails.
  bool insert_run(const char* kind, const char* what, const char* sql,
                  const std::function<bool(Statement&, long long)>& rows);

  sqlite3* db_ = nullptr;
  bool missing_ = false;
  std::string error_;
  std::string notice_;
};

// How long a command waits for another process's write before refusing the store:
// TESTMAP_STORE_TIMEOUT seconds, 30 by default.
int busy_timeout_ms();

std::string default_path(const std::string& root);

// What recorded runs saw, from the root's store; empty when there is no store yet. False
// with *error (one line, naming the store) when the store exists but cannot be read.
bool load_runtime_uses(const std::string& root, classify::RuntimeUses* out, std::string* error);

}  // namespace testmap::store
