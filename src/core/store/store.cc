// Opening, version-checking and writing the store. Writes happen in one
// transaction with prepared statements: tens of thousands of rows in milliseconds.
#include "core/store/store.h"

#include <chrono>
#include <filesystem>
#include <unordered_map>

#include <xxhash.h>

#include <fmt/format.h>

#include "core/store/schema.h"
#include "core/store/statement.h"

namespace testmap::store {
namespace fs = std::filesystem;
namespace {}  // namespace

std::string default_path(const std::string& root) {
  return (fs::path(root) / ".testmap" / "testmap.db").string();
}

Store::Store(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (open_and_check(path)) return;
  // Old or broken: move it aside and start again rather than trust it.
  if (db_) sqlite3_close(db_);
  db_ = nullptr;
  std::string why = error_;
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix, ec);
  error_.clear();
  if (!open_and_check(path)) {
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    return;
  }
  notice_ = fmt::format("{}: {}; rebuilt it", path, why);
}

Store::~Store() {
  if (db_) sqlite3_close(db_);
}

bool Store::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return true;
  error_ = err ? err : sqlite3_errmsg(db_);
  sqlite3_free(err);
  return false;
}

bool Store::open_and_check(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    error_ = fmt::format("cannot open {}: {}", path, db_ ? sqlite3_errmsg(db_) : "out of memory");
    return false;
  }
  sqlite3_busy_timeout(db_, 5000);
  // -1 when it cannot be read; -2 when the statement does not even prepare.
  auto user_version = [this] {
    Statement s(db_, "PRAGMA user_version");
    if (!s.ok()) return -2;
    return sqlite3_step(s.raw()) == SQLITE_ROW ? sqlite3_column_int(s.raw(), 0) : -1;
  };
  int version = user_version();
  if (version == -2) {
    error_ = fmt::format("not a testmap store ({})", sqlite3_errmsg(db_));
    return false;
  }
  if (version < 0) {
    error_ = "not a testmap store (unreadable)";
    return false;
  }
  if (version == 0) {
    int tables = -1;
    {
      // Finalized before the WAL switch, which refuses to run inside a read transaction.
      Statement s(db_, "SELECT count(*) FROM sqlite_master");
      if (s.ok() && sqlite3_step(s.raw()) == SQLITE_ROW) tables = sqlite3_column_int(s.raw(), 0);
    }
    if (tables != 0) {
      error_ = "not a testmap store";
      return false;
    }
    if (!exec("PRAGMA journal_mode=WAL") || !exec("BEGIN") || !exec(kSchema) ||
        !exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str()) || !exec("COMMIT"))
      return false;
  } else if (version == 2) {
    if (!exec("BEGIN IMMEDIATE")) return false;
    // Another process may have upgraded it while we waited for the lock.
    if (user_version() == 2 &&
        (!exec(kUpgradeFrom2) ||
         !exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str()))) {
      exec("ROLLBACK");
      return false;
    }
    if (!exec("COMMIT")) return false;
  } else if (version != kSchemaVersion) {
    error_ =
        fmt::format("store has schema version {}, this testmap writes {}", version, kSchemaVersion);
    return false;
  }
  if (!exec("PRAGMA foreign_keys=ON") || !exec("PRAGMA synchronous=NORMAL")) return false;
  // Not `PRAGMA quick_check`: it reads the whole file on every open. A damaged page
  // makes a later statement fail with SQLITE_CORRUPT, which the caller reports.
  Statement check(db_, "SELECT count(*) FROM run");
  if (!check.ok() || sqlite3_step(check.raw()) != SQLITE_ROW) {
    error_ = fmt::format("store is corrupt ({})", sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

namespace {

// A digest of everything replace_static writes for one test.
long long static_digest(const classify::TestResult& t) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  auto put = [&](const std::string& s) {
    XXH3_64bits_update(st, s.data(), s.size() + 1);  // the NUL separates fields
  };
  auto put_int = [&](long long v) { XXH3_64bits_update(st, &v, sizeof v); };
  put(t.file), put(t.cls), put(t.function), put(t.tier), put_int(t.line), put_int(t.unknown);
  for (const auto& r : t.reasons)
    if (!r.runtime) put(r.service), put(r.rule), put(r.detail), put(r.file), put_int(r.line);
  long long h = static_cast<long long>(XXH3_64bits_digest(st));
  XXH3_freeState(st);
  return h;
}

}  // namespace

bool Store::replace_static(const classify::Classification& c) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Statement run(db_, "INSERT INTO run(kind, started) VALUES('classify', ?)");
  run.real(1, now).step();
  // What is stored now: tests whose digest is unchanged are left alone.
  struct Row {
    long long id = -1;
    long long hash;
    bool seen;
  };
  std::unordered_map<std::string, Row> stored;
  {
    Statement all(db_, "SELECT id, nodeid, static_hash FROM test");
    while (all.ok() && sqlite3_step(all.raw()) == SQLITE_ROW)
      stored.emplace(
          reinterpret_cast<const char*>(sqlite3_column_text(all.raw(), 1)),
          Row{sqlite3_column_int64(all.raw(), 0), sqlite3_column_int64(all.raw(), 2), false});
  }
  Statement insert(db_,
                   "INSERT INTO test(nodeid, file, class, function, line, tier, unknown, "
                   "static_hash) VALUES(?,?,?,?,?,?,?,?)");
  Statement update(db_,
                   "UPDATE test SET file=?2, class=?3, function=?4, line=?5, tier=?6, unknown=?7, "
                   "static_hash=?8 WHERE id=?1");
  Statement clear(db_, "DELETE FROM service_use WHERE test_id=? AND source='static'");
  Statement use(db_,
                "INSERT INTO service_use(test_id, service, source, rule, detail, file, line) "
                "VALUES(?,?,'static',?,?,?,?)");
  Statement remove(db_, "DELETE FROM test WHERE id=?");
  if (!insert.ok() || !update.ok() || !clear.ok() || !use.ok() || !remove.ok()) {
    error_ = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    return false;
  }
  auto fail = [&](const std::string& what) {
    error_ = fmt::format("cannot write {}: {}", what, sqlite3_errmsg(db_));
    exec("ROLLBACK");
    return false;
  };
  for (const auto& t : c.tests) {
    long long hash = static_digest(t);
    long long id = -1;
    auto it = stored.find(t.id);
    if (it != stored.end()) {
      it->second.seen = true;
      if (it->second.hash == hash) continue;
      id = it->second.id;
      update.integer(1, id);
      if (clear.integer(1, id).step() != SQLITE_DONE) return fail("test " + t.id);
    }
    Statement& row = it != stored.end() ? update : insert;
    if (it == stored.end()) row.text(1, t.id);
    row.text(2, t.file)
        .text(3, t.cls)
        .text(4, t.function)
        .integer(5, t.line)
        .text(6, t.tier)
        .integer(7, t.unknown ? 1 : 0)
        .integer(8, hash);
    if (row.step() != SQLITE_DONE) return fail("test " + t.id);
    if (it == stored.end()) {
      id = sqlite3_last_insert_rowid(db_);
      stored.emplace(t.id, Row{id, hash, true});  // a repeated id updates this row
    }
    for (const auto& r : t.reasons)
      if (!r.runtime && use.integer(1, id)
                                .text(2, r.service)
                                .text(3, r.rule)
                                .text(4, r.detail)
                                .text(5, r.file)
                                .integer(6, r.line)
                                .step() != SQLITE_DONE)
        return fail("the reasons of " + t.id);
  }
  // Tests that are gone from the source take their history with them. A test only a
  // recorded run knows (collected by a plugin from a YAML file, made at import time) is
  // kept while its file exists: its durations and services are still true.
  Statement recorded(db_,
                     "SELECT t.file FROM test t WHERE t.id = ? AND (EXISTS (SELECT 1 FROM "
                     "duration d WHERE d.test_id = t.id) OR EXISTS (SELECT 1 FROM service_use u "
                     "WHERE u.test_id = t.id AND u.source = 'runtime'))");
  for (const auto& [nodeid, row] : stored) {
    if (row.seen) continue;
    recorded.integer(1, row.id);
    std::string file;
    if (sqlite3_step(recorded.raw()) == SQLITE_ROW && sqlite3_column_text(recorded.raw(), 0))
      file = reinterpret_cast<const char*>(sqlite3_column_text(recorded.raw(), 0));
    sqlite3_reset(recorded.raw());
    std::error_code ec;
    if (!file.empty() && fs::exists(fs::path(c.root) / file, ec)) continue;
    if (remove.integer(1, row.id).step() != SQLITE_DONE) return fail("test " + nodeid);
  }
  return exec("COMMIT");
}

bool save_classification(const classify::Classification& c, std::string* error) {
  Store s(default_path(c.root));
  if (!s.ok()) {
    *error = fmt::format("cannot use the store {}: {}; results were not saved",
                         default_path(c.root), s.error());
    return false;
  }
  if (!s.notice().empty()) *error = s.notice();
  if (!s.replace_static(c)) {
    *error = fmt::format("cannot write the store {}: {}", default_path(c.root), s.error());
    return false;
  }
  return s.notice().empty();
}

}  // namespace testmap::store
