// Store unit tests for what the CLI cannot reach easily: upgrades from old schemas keep
// their rows, and readers neither create nor change a file.
#include <doctest/doctest.h>

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/store/store.h"
#include "core/util/diagnostic.h"

namespace fs = std::filesystem;
using testmap::store::Access;
using testmap::store::Store;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "testmap-store-test-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
};

void exec(const fs::path& db, const char* sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, sql, nullptr, nullptr, &err);
  INFO(sql << ": " << (err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("a version 1 store is upgraded in place, keeping its durations") {
  TempDir dir;
  fs::path db = dir.path / "testmap.db";
  // The version 1 schema: no static_hash, no duration.variant.
  exec(db,
       "CREATE TABLE run (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, started REAL NOT NULL, "
       "commit_sha TEXT);"
       "CREATE TABLE test (id INTEGER PRIMARY KEY, nodeid TEXT NOT NULL UNIQUE, file TEXT NOT "
       "NULL, class TEXT, function TEXT, line INTEGER, tier TEXT, unknown INTEGER NOT NULL "
       "DEFAULT 0);"
       "CREATE TABLE service_use (test_id INTEGER NOT NULL, service TEXT NOT NULL, phase TEXT, "
       "source TEXT NOT NULL, rule TEXT, detail TEXT, file TEXT, line INTEGER);"
       "CREATE TABLE duration (test_id INTEGER NOT NULL, run_id INTEGER NOT NULL, seconds REAL "
       "NOT NULL, outcome TEXT);"
       "CREATE TABLE dep (test_id INTEGER NOT NULL, file TEXT NOT NULL, function TEXT, hash "
       "TEXT);"
       "CREATE TABLE file_state (file TEXT PRIMARY KEY, content_hash TEXT, outline_hash TEXT, "
       "commit_sha TEXT);"
       "INSERT INTO run VALUES (1, 'record', 1, NULL);"
       "INSERT INTO test(id, nodeid, file) VALUES (1, 't.py::test_a', 't.py');"
       "INSERT INTO duration VALUES (1, 1, 2.5, 'passed');"
       "PRAGMA user_version = 1;");
  Store s(db.string(), Access::kRead);
  REQUIRE_MESSAGE(s.ok(), s.error());
  std::map<std::string, std::vector<double>> durations;
  REQUIRE(s.recent_durations(5, &durations));
  CHECK(durations == std::map<std::string, std::vector<double>>{{"t.py::test_a", {2.5}}});
  std::vector<testmap::store::Polluter> polluters;  // the newest tables are there, empty
  CHECK(s.polluters(&polluters));
  CHECK(polluters.empty());
  std::map<std::string, double> envs;
  CHECK(s.env_durations(5, &envs));
  CHECK(envs.empty());
  double median = -1;
  int count = -1;
  CHECK(s.job_setup("tiers", 20, &median, &count));
  CHECK(count == 0);
  CHECK(median == -1);  // none measured: left as it was
}

TEST_CASE("job set-ups: the median of the newest of one kind") {
  TempDir dir;
  std::string db = (dir.path / "testmap.db").string();
  {
    Store s(db);
    REQUIRE_MESSAGE(s.ok(), s.error());
    // Oldest first: the two oldest tier jobs fall out of the newest 3.
    for (double seconds : {500.0, 400.0, 30.0, 40.0, 90.0})
      REQUIRE(s.save_job_setups({{"unit", "tiers", seconds}}));
    REQUIRE(s.save_job_setups({{"py311", "tox", 7}, {"py312", "tox", 9}}));
  }
  Store s(db, Access::kRead);
  double median = 0;
  int count = 0;
  REQUIRE(s.job_setup("tiers", 3, &median, &count));
  CHECK(count == 3);
  CHECK(median == 40);
  REQUIRE(s.job_setup("tox", 20, &median, &count));
  CHECK(count == 2);
  CHECK(median == 8);
  REQUIRE(s.job_setup("nox", 20, &median, &count));
  CHECK(count == 0);
}

TEST_CASE("polluters: a test's newer finding hides its older one, newest first") {
  TempDir dir;
  std::string db = (dir.path / "testmap.db").string();
  testmap::store::Polluter a{"t.py::test_v", {"t.py::test_a"}, 100, 3, "abc", true, 5, "cmd a"};
  testmap::store::Polluter b{
      "u.py::test_w[1]", {"u.py::x", "u.py::y"}, 200, 0, "", false, 60, "cmd b"};
  testmap::store::Polluter c{"t.py::test_v", {"t.py::test_c"}, 300, 4, "def", true, 6, "cmd c"};
  {
    Store s(db);
    REQUIRE_MESSAGE(s.ok(), s.error());
    for (const auto& p : {a, b, c}) REQUIRE_MESSAGE(s.save_polluter(p), s.error());
  }
  Store s(db, Access::kRead);
  std::vector<testmap::store::Polluter> found;
  REQUIRE(s.polluters(&found));
  REQUIRE(found.size() == 2);
  CHECK(found[0].test == "t.py::test_v");
  CHECK(found[0].polluters == std::vector<std::string>{"t.py::test_c"});
  CHECK(found[0].run_id == 4);
  CHECK(found[0].reproduce == "cmd c");
  CHECK(found[1].test == "u.py::test_w[1]");
  CHECK(found[1].polluters == std::vector<std::string>{"u.py::x", "u.py::y"});
  CHECK(found[1].run_id == 0);
  CHECK(found[1].commit.empty());
  CHECK(!found[1].minimal);
  CHECK(found[1].pytest_runs == 60);
}

TEST_CASE("a reader of a missing or empty store creates nothing") {
  TempDir dir;
  fs::path db = dir.path / ".testmap" / "testmap.db";
  {
    Store s(db.string(), Access::kRead);
    CHECK(s.missing());
    CHECK(!s.ok());
    CHECK(s.error().empty());
  }
  CHECK(!fs::exists(db.parent_path()));
  fs::create_directories(db.parent_path());
  std::ofstream(db).close();  // an empty file is an empty SQLite database
  {
    Store s(db.string(), Access::kRead);
    CHECK(s.missing());
  }
  CHECK(fs::file_size(db) == 0);
}

TEST_CASE("a newer store is refused by every kind of opener and left as it was") {
  TempDir dir;
  fs::path db = dir.path / "testmap.db";
  exec(db, "CREATE TABLE x (y INTEGER); PRAGMA user_version = 99;");
  auto size = fs::file_size(db);
  for (Access a : {Access::kRead, Access::kWrite, Access::kRebuild}) {
    Store s(db.string(), a);
    CHECK(!s.ok());
    CHECK(s.error().find("99") != std::string::npos);
    CHECK(s.notice().empty());
  }
  CHECK(fs::file_size(db) == size);
  CHECK(fs::directory_iterator(dir.path)->path() == db);  // nothing moved aside
}

TEST_CASE("a diagnostic is one line whatever its input holds") {
  testmap::Diagnostic d{"pyproject.toml", 3, "tool.testmap.a\nb", "bad\tvalue\x01"};
  CHECK(d.format() == "pyproject.toml:3: tool.testmap.a\\nb: bad\\x09value\\x01");
}

TEST_CASE("the tests a worker ran before a failure are read back in order") {
  TempDir dir;
  Store s((dir.path / "testmap.db").string());
  REQUIRE_MESSAGE(s.ok(), s.error());
  auto record = [](std::string id, std::string outcome, std::string worker, int position) {
    testmap::runtime::TestRecord r;
    r.nodeid = std::move(id);
    r.outcome = std::move(outcome);
    r.worker = std::move(worker);
    r.position = position;
    r.has_phases = false;
    return r;
  };
  REQUIRE(s.merge_runtime(
      {record("t.py::test_a", "passed", "gw0", 0), record("u.py::test_c", "passed", "gw1", 0),
       record("t.py::test_b[1-x]", "passed", "gw0", 1), record("u.py::test_d", "passed", "gw1", 1),
       record("v.py::test_victim", "failed", "gw0", 2)},
      "pytest"));
  // A later run in which it passed: the failing run is still the one replayed.
  REQUIRE(s.merge_runtime({record("v.py::test_victim", "passed", "main", 0)}, "pytest"));
  testmap::store::RunOrder order;
  bool found = false;
  REQUIRE(s.order_before("v.py::test_victim", 0, &order, &found));
  REQUIRE(found);
  CHECK(order.worker == "gw0");
  CHECK(order.outcome == "failed");
  CHECK(order.before == std::vector<std::string>{"t.py::test_a", "t.py::test_b[1-x]"});
  REQUIRE(s.order_before("u.py::test_d", 0, &order, &found));
  CHECK_FALSE(found);  // it never failed
  // Durations imported from elsewhere say nothing of the order.
  REQUIRE(s.merge_runtime({record("w.py::test_e", "failed", "", -1)}, "import"));
  REQUIRE(s.order_before("w.py::test_e", 0, &order, &found));
  CHECK_FALSE(found);
}
