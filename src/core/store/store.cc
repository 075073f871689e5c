// Opening, version-checking and writing the store. Writes happen in one
// transaction with prepared statements: tens of thousands of rows in milliseconds.
#include "core/store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>
#include <unordered_map>

#include <xxhash.h>

#include <fmt/format.h>

#include "core/store/schema.h"
#include "core/store/statement.h"

namespace testmap::store {
namespace fs = std::filesystem;

std::string default_path(const std::string& root) {
  return (fs::path(root) / ".testmap" / "testmap.db").string();
}

int busy_timeout_ms() {
  const char* env = std::getenv("TESTMAP_STORE_TIMEOUT");
  if (env && *env) {
    char* end = nullptr;
    double s = std::strtod(env, &end);
    if (end && *end == '\0' && std::isfinite(s) && s >= 0 && s <= 86400)
      return static_cast<int>(s * 1000);
  }
  return 30000;
}

namespace {

constexpr const char* kMoveAsideHint = "; `testmap classify` moves it aside and starts a new store";

// A name beside `path` for a corrupt store, with the time it was moved there.
std::string aside_path(const std::string& path) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string base = fmt::format("{}.corrupt-{}", path, stamp);
  std::string out = base;
  std::error_code ec;
  for (int i = 2; fs::exists(out, ec); ++i) out = fmt::format("{}-{}", base, i);
  return out;
}

}  // namespace

Store::Store(const std::string& path, Access access) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) {
    if (access == Access::kRead) {
      missing_ = true;
      return;
    }
    fs::create_directories(fs::path(path).parent_path(), ec);
  } else if (!fs::is_regular_file(st)) {
    error_ = "it is not a file";
    return;
  } else if (int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd < 0) {
    // SQLite would say only "unable to open database file": the OS says why.
    error_ = fmt::format("cannot read it: {}", std::strerror(errno));
    return;
  } else {
    ::close(fd);
  }
  Opened opened = open_and_check(path, access);
  if (opened == Opened::kOk) return;
  if (db_) sqlite3_close(db_);
  db_ = nullptr;
  if (opened == Opened::kRefused) return;
  if (access != Access::kRebuild) {
    error_ += kMoveAsideHint;
    return;
  }
  std::string why = error_, aside = aside_path(path);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (!fs::exists(path + suffix, ec)) continue;
    fs::rename(path + suffix, aside + suffix, ec);
    if (ec) {
      error_ = fmt::format("{}; cannot move it aside to {}: {}", why, aside, ec.message());
      return;
    }
  }
  error_.clear();
  if (open_and_check(path, access) != Opened::kOk) {
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    return;
  }
  notice_ = fmt::format("{}: {}: moved it to {} and started a new store", path, why, aside);
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

namespace {

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

}  // namespace

bool Store::query_failed(int rc) {
  if (rc == SQLITE_DONE) return false;
  error_ = fmt::format("cannot read it: {}{}", sqlite3_errmsg(db_),
                       is_corruption(rc) ? kMoveAsideHint : "");
  return true;
}

namespace {

// -1 when it cannot be read (the SQLite result code in *rc).
int read_user_version(sqlite3* db, int* rc) {
  Statement s(db, "PRAGMA user_version");
  *rc = s.ok() ? sqlite3_step(s.raw()) : sqlite3_errcode(db);
  return *rc == SQLITE_ROW ? sqlite3_column_int(s.raw(), 0) : -1;
}

}  // namespace

Store::Opened Store::open_and_check(const std::string& path, Access access) {
  int flags = SQLITE_OPEN_READWRITE | (access == Access::kRead ? 0 : SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    error_ = db_ ? sqlite3_errmsg(db_) : "out of memory";
    return Opened::kRefused;
  }
  int timeout = busy_timeout_ms();
  sqlite3_busy_timeout(db_, timeout);
  auto failed = [&](int rc) {
    if (is_corruption(rc)) {
      error_ = fmt::format("it is corrupt ({})", sqlite3_errstr(rc));
      return Opened::kCorrupt;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
      error_ =
          fmt::format("another process held it for {} s (TESTMAP_STORE_TIMEOUT)", timeout / 1000.0);
    else
      error_ = fmt::format("cannot use it: {}", sqlite3_errmsg(db_));
    return Opened::kRefused;
  };
  int rc = SQLITE_OK;
  int version = read_user_version(db_, &rc);
  if (version < 0) return failed(rc);
  if (version > kSchemaVersion) {
    error_ = fmt::format(
        "it has schema version {}, from a newer testmap; this one reads versions up to {}", version,
        kSchemaVersion);
    return Opened::kRefused;
  }
  if (version == 0 && access == Access::kRead) {
    Statement s(db_, "SELECT count(*) FROM sqlite_master");
    if (!s.ok()) return failed(sqlite3_errcode(db_));
    rc = sqlite3_step(s.raw());
    if (rc != SQLITE_ROW) return failed(rc);
    if (sqlite3_column_int(s.raw(), 0) == 0) {  // an empty file: nothing recorded
      sqlite3_close(db_);
      db_ = nullptr;
      missing_ = true;
      return Opened::kRefused;
    }
  }
  if (version != kSchemaVersion) {
    Opened o = create_or_upgrade();
    if (o != Opened::kOk) return o;
  }
  if (!exec("PRAGMA foreign_keys=ON") || !exec("PRAGMA synchronous=NORMAL"))
    return failed(sqlite3_errcode(db_));
  // Readers do not run `PRAGMA quick_check`, which reads the whole file: a damaged page
  // makes a later statement fail with SQLITE_CORRUPT, which they report. kRebuild reads
  // it all anyway, and must find the damage before it can move the store aside.
  Statement check(db_,
                  access == Access::kRebuild ? "PRAGMA quick_check" : "SELECT count(*) FROM run");
  if (!check.ok()) return failed(sqlite3_errcode(db_));
  if (rc = sqlite3_step(check.raw()); rc != SQLITE_ROW) return failed(rc);
  if (access == Access::kRebuild) {
    const unsigned char* verdict = sqlite3_column_text(check.raw(), 0);
    std::string v = verdict ? reinterpret_cast<const char*>(verdict) : "";
    if (v != "ok") {
      error_ = fmt::format("it is corrupt ({})", v.substr(0, v.find('\n')));
      return Opened::kCorrupt;
    }
  }
  return Opened::kOk;
}

// Creates the schema in an empty file, or upgrades an older one in place, in one
// transaction: processes started together agree on one creator, the others wait for it.
Store::Opened Store::create_or_upgrade() {
  auto failed = [&](const char* what) {
    int rc = sqlite3_errcode(db_);
    std::string why = error_.empty() ? sqlite3_errmsg(db_) : error_;
    exec("ROLLBACK");
    error_ = fmt::format("cannot {} it: {}", what, why);
    return is_corruption(rc) ? Opened::kCorrupt : Opened::kRefused;
  };
  error_.clear();
  // WAL lets readers go on while a record or classify writes; it is kept in the file.
  // Turning it on needs the other connections' locks gone, and SQLite answers BUSY at
  // once there, without its busy handler (processes started together race for it): wait
  // as the busy timeout would.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms());
  while (!exec("PRAGMA journal_mode=WAL")) {
    int rc = sqlite3_errcode(db_) & 0xff;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || std::chrono::steady_clock::now() > deadline)
      return failed("open");
    error_.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exec("BEGIN IMMEDIATE")) return failed("open");
  int rc = SQLITE_OK;
  int version = read_user_version(db_, &rc);  // another process may have been first
  if (version == 0) {
    Statement s(db_, "SELECT count(*) FROM sqlite_master");
    int tables =
        s.ok() && sqlite3_step(s.raw()) == SQLITE_ROW ? sqlite3_column_int(s.raw(), 0) : -1;
    if (tables != 0) {
      exec("ROLLBACK");
      error_ = "it is not a testmap store (tables without a testmap schema version)";
      return Opened::kCorrupt;
    }
    if (!exec(kSchema)) return failed("create");
  } else if (version >= 1 && version <= 7) {
    if (version == 1 && !exec(kUpgradeFrom1)) return failed("upgrade");
    if (version <= 2 && !exec(kUpgradeFrom2)) return failed("upgrade");
    if (version <= 3 && !exec(kUpgradeFrom3)) return failed("upgrade");
    if (version <= 4 && !exec(kUpgradeFrom4)) return failed("upgrade");
    if (version <= 5 && !exec(kUpgradeFrom5)) return failed("upgrade");
    if (version <= 6 && !exec(kUpgradeFrom6)) return failed("upgrade");
    if (!exec(kUpgradeFrom7)) return failed("upgrade");
  } else if (version != kSchemaVersion) {
    return failed("open");
  }
  if (version != kSchemaVersion &&
      !exec(fmt::format("PRAGMA user_version={}", kSchemaVersion).c_str()))
    return failed("upgrade");
  if (!exec("COMMIT")) return failed("write");
  return Opened::kOk;
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

}  // namespace testmap::store
