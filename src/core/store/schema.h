// The store's schema: one constant with a version. An older store is upgraded in place,
// keeping what it recorded; a newer one is refused (store.cc).
//
// History:
//   1  run, test, service_use, duration, dep, file_state (static classification).
//   2  test.static_hash: a digest of the test's static row and reasons, so a
//      classification rewrites only the tests whose answer changed.
//   3  duration.variant: the parametrize id ("[1-a]", or ""), so that exported
//      durations name each variant as pytest does. A version 2 store is upgraded in
//      place (kUpgradeFrom2), keeping what it recorded; a version 1 store too (kUpgradeFrom1
//      first).
//   4  What tests depend on (pytest --testmap-deps): unit (a function, a class body or a
//      whole file, with its hash when recorded), test_unit, test_deps (the run that
//      recorded a test's units and its outcome then), module_state and watch_state (per
//      recording run: each file's module-level hash; the content hash of the files that
//      change everything, and of conftest.py files). Added to a version 3 store in place.
//   5  duration.worker and duration.position: which pytest process ran the test (xdist's
//      gw0, gw1, ..., or main) and how many tests it had run before, so `testmap bisect`
//      can replay what ran before a failure; run.code: the code a run tested, so
//      `testmap flaky` compares outcomes of the same code only. Added to a version 4 store
//      in place.
//   6  polluter: what `testmap bisect` found, so the report can show it. Added to a version
//      5 store in place.
//   7  env_duration: each tox environment's seconds in a run (tox --result-json, imported),
//      so `testmap ci --envs --max-jobs` can balance its jobs. Added to a version 6 store in
//      place.
//   8  job_setup: a CI job's seconds from its start to its tests' start (testmap-job.json of a
//      generated workflow, imported), the measured job-overhead-seconds. Added to a version 7
//      store in place.
#pragma once

namespace testmap::store {

inline constexpr int kSchemaVersion = 8;

inline constexpr const char* kSchema = R"sql(
CREATE TABLE run (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,            -- classify | record | pytest
  started REAL NOT NULL,         -- unix seconds
  commit_sha TEXT,
  code TEXT                      -- runtime/code_version.h: the code the run tested, or NULL
);
CREATE TABLE test (
  id INTEGER PRIMARY KEY,
  nodeid TEXT NOT NULL UNIQUE,   -- as pytest spells it, without parametrize ids
  file TEXT NOT NULL,
  class TEXT,
  function TEXT,
  line INTEGER,
  tier TEXT,                     -- from the latest classification
  unknown INTEGER NOT NULL DEFAULT 0,
  static_hash INTEGER            -- xxh3 of the static columns and reasons
);
CREATE TABLE service_use (
  test_id INTEGER NOT NULL REFERENCES test(id) ON DELETE CASCADE,
  service TEXT NOT NULL,         -- '*' for reasons that make a test unknown
  phase TEXT,                    -- setup | call | teardown (runtime only)
  source TEXT NOT NULL,          -- static | runtime
  rule TEXT,
  detail TEXT,
  file TEXT,
  line INTEGER
);
CREATE INDEX service_use_test ON service_use(test_id);
CREATE TABLE duration (
  test_id INTEGER NOT NULL REFERENCES test(id) ON DELETE CASCADE,
  run_id INTEGER NOT NULL REFERENCES run(id),
  seconds REAL NOT NULL,
  outcome TEXT,
  variant TEXT NOT NULL DEFAULT '', -- the parametrize id, brackets included
  worker TEXT,                   -- gw0, gw1, ... or main; NULL when imported
  position INTEGER               -- how many tests that worker ran before it in the run
);
CREATE TABLE dep (
  test_id INTEGER NOT NULL REFERENCES test(id) ON DELETE CASCADE,
  file TEXT NOT NULL,
  function TEXT,
  hash TEXT
);
CREATE TABLE file_state (
  file TEXT PRIMARY KEY,
  content_hash TEXT,
  outline_hash TEXT,
  commit_sha TEXT
);
)sql"
                                       R"sql(
CREATE TABLE unit (
  id INTEGER PRIMARY KEY,
  file TEXT NOT NULL,
  name TEXT NOT NULL,            -- qualname of a function or class body; '*': the whole file
  hash INTEGER NOT NULL,         -- the scanner's hash when recorded
  UNIQUE (file, name, hash)
);
CREATE TABLE test_unit (
  test_id INTEGER NOT NULL REFERENCES test(id) ON DELETE CASCADE,
  unit_id INTEGER NOT NULL REFERENCES unit(id)
);
CREATE INDEX test_unit_test ON test_unit(test_id);
CREATE TABLE test_deps (
  test_id INTEGER PRIMARY KEY REFERENCES test(id) ON DELETE CASCADE,
  run_id INTEGER NOT NULL REFERENCES run(id),
  outcome TEXT                   -- the worst of its variants in that run
);
CREATE TABLE module_state (
  run_id INTEGER NOT NULL REFERENCES run(id),
  file TEXT NOT NULL,
  module_hash INTEGER NOT NULL,
  PRIMARY KEY (run_id, file)
);
CREATE TABLE watch_state (
  run_id INTEGER NOT NULL REFERENCES run(id),
  file TEXT NOT NULL,
  content_hash INTEGER NOT NULL,
  PRIMARY KEY (run_id, file)
);
)sql"
                                       R"sql(
CREATE TABLE polluter (
  id INTEGER PRIMARY KEY,
  test TEXT NOT NULL,            -- the test that fails after them, parametrize id included
  polluters TEXT NOT NULL,       -- node ids, a line each, all needed, in the order they ran
  found REAL NOT NULL,           -- unix seconds
  run_id INTEGER,                -- the recorded run replayed; NULL when given a list (--from)
  commit_sha TEXT,
  minimal INTEGER NOT NULL,      -- 0 when --max-trials stopped the bisection
  pytest_runs INTEGER NOT NULL,
  reproduce TEXT NOT NULL        -- a shell command that shows the failure
);
CREATE TABLE env_duration (
  run_id INTEGER NOT NULL REFERENCES run(id),
  env TEXT NOT NULL,             -- the tox environment
  seconds REAL NOT NULL,         -- set-up and commands, as tox measured them
  success INTEGER NOT NULL
);
CREATE TABLE job_setup (
  run_id INTEGER NOT NULL REFERENCES run(id),
  job TEXT NOT NULL,             -- the job's id in the generated file
  kind TEXT NOT NULL,            -- tox | nox | tiers: which file's jobs
  seconds REAL NOT NULL          -- from the job's start to its tests' start
);
)sql";

// Version 1 to 2; static_hash NULL makes the next classification rewrite every test's row.
inline constexpr const char* kUpgradeFrom1 = "ALTER TABLE test ADD COLUMN static_hash INTEGER";

// Version 3 to 4: the tables of kSchema after file_state.
inline constexpr const char* kUpgradeFrom3 = R"sql(
CREATE TABLE IF NOT EXISTS unit (id INTEGER PRIMARY KEY, file TEXT NOT NULL, name TEXT NOT NULL,
  hash INTEGER NOT NULL, UNIQUE (file, name, hash));
CREATE TABLE IF NOT EXISTS test_unit (test_id INTEGER NOT NULL REFERENCES test(id) ON DELETE CASCADE,
  unit_id INTEGER NOT NULL REFERENCES unit(id));
CREATE INDEX IF NOT EXISTS test_unit_test ON test_unit(test_id);
CREATE TABLE IF NOT EXISTS test_deps (test_id INTEGER PRIMARY KEY REFERENCES test(id) ON DELETE CASCADE,
  run_id INTEGER NOT NULL REFERENCES run(id), outcome TEXT);
CREATE TABLE IF NOT EXISTS module_state (run_id INTEGER NOT NULL REFERENCES run(id), file TEXT NOT NULL,
  module_hash INTEGER NOT NULL, PRIMARY KEY (run_id, file));
CREATE TABLE IF NOT EXISTS watch_state (run_id INTEGER NOT NULL REFERENCES run(id), file TEXT NOT NULL,
  content_hash INTEGER NOT NULL, PRIMARY KEY (run_id, file));
)sql";

// Version 2 to 3; the rows a version 2 store holds are variant "" (variants summed).
inline constexpr const char* kUpgradeFrom2 =
    "ALTER TABLE duration ADD COLUMN variant TEXT NOT NULL DEFAULT ''";

// Version 4 to 5.
inline constexpr const char* kUpgradeFrom4 =
    "ALTER TABLE duration ADD COLUMN worker TEXT; "
    "ALTER TABLE duration ADD COLUMN position INTEGER; "
    "ALTER TABLE run ADD COLUMN code TEXT";

// Version 5 to 6: the table of kSchema after watch_state.
inline constexpr const char* kUpgradeFrom5 = R"sql(
CREATE TABLE IF NOT EXISTS polluter (id INTEGER PRIMARY KEY, test TEXT NOT NULL,
  polluters TEXT NOT NULL, found REAL NOT NULL, run_id INTEGER, commit_sha TEXT,
  minimal INTEGER NOT NULL, pytest_runs INTEGER NOT NULL, reproduce TEXT NOT NULL);
)sql";

// Version 7 to 8: the table of kSchema after env_duration.
inline constexpr const char* kUpgradeFrom7 = R"sql(
CREATE TABLE IF NOT EXISTS job_setup (run_id INTEGER NOT NULL REFERENCES run(id),
  job TEXT NOT NULL, kind TEXT NOT NULL, seconds REAL NOT NULL);
)sql";

// Version 6 to 7: the table of kSchema after polluter.
inline constexpr const char* kUpgradeFrom6 = R"sql(
CREATE TABLE IF NOT EXISTS env_duration (run_id INTEGER NOT NULL REFERENCES run(id),
  env TEXT NOT NULL, seconds REAL NOT NULL, success INTEGER NOT NULL);
)sql";

}  // namespace testmap::store
