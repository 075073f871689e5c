// What tests depend on, in the store: written by a recording run (pytest --testmap-deps),
// read back whole by `testmap affected`.
#include <chrono>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "core/store/statement.h"
#include "core/store/store.h"
#include "core/store/unit_key.h"

namespace testmap::store {

bool Store::save_deps(const std::vector<TestDeps>& tests, const RunFiles& files,
                      const std::string& commit) {
  // Every row below refers to ids this transaction has just read or made, so checking
  // each of some ten thousand links against its parent rows only costs time. The pragma
  // has no effect inside a transaction: it is set before and restored after.
  if (!exec("PRAGMA foreign_keys=OFF")) return false;
  struct Restore {
    Store* s;
    ~Restore() { s->exec("PRAGMA foreign_keys=ON"); }
  } restore{this};
  if (!exec("BEGIN IMMEDIATE")) return false;
  auto fail = [&](const std::string& what) {
    error_ = fmt::format("cannot write {}: {}", what, sqlite3_errmsg(db_));
    exec("ROLLBACK");
    return false;
  };
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Statement run(db_, "INSERT INTO run(kind, started, commit_sha) VALUES('deps', ?, ?)");
  run.real(1, now);
  if (!commit.empty()) run.text(2, commit);
  if (run.step() != SQLITE_DONE) return fail("the run");
  long long run_id = sqlite3_last_insert_rowid(db_);
  Statement find(db_, "SELECT id FROM test WHERE nodeid = ?");
  Statement insert(db_, "INSERT INTO test(nodeid, file, class, function) VALUES(?,?,?,?)");
  Statement clear(db_, "DELETE FROM test_unit WHERE test_id = ?");
  Statement deps(db_, "INSERT OR REPLACE INTO test_deps(test_id, run_id, outcome) VALUES(?,?,?)");
  Statement unit(db_, "INSERT OR IGNORE INTO unit(file, name, hash) VALUES(?,?,?)");
  Statement unit_id(db_, "SELECT id FROM unit WHERE file = ? AND name = ? AND hash = ?");
  Statement link(db_, "INSERT INTO test_unit(test_id, unit_id) VALUES(?,?)");
  // Links go in kBatch at a time: one statement per link costs more than the insert.
  constexpr int kBatch = 100;
  std::string batch_sql = "INSERT INTO test_unit(test_id, unit_id) VALUES(?,?)";
  for (int i = 1; i < kBatch; ++i) batch_sql += ",(?,?)";
  Statement batch(db_, batch_sql.c_str());
  std::vector<std::pair<long long, long long>> pending;
  auto flush = [&](bool all) {
    size_t done = 0;
    for (; pending.size() - done >= kBatch; done += kBatch) {
      for (int i = 0; i < kBatch; ++i)
        batch.integer(2 * i + 1, pending[done + i].first)
            .integer(2 * i + 2, pending[done + i].second);
      if (batch.step() != SQLITE_DONE) return false;
    }
    for (; all && done < pending.size(); ++done)
      if (link.integer(1, pending[done].first).integer(2, pending[done].second).step() !=
          SQLITE_DONE)
        return false;
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(done));
    return true;
  };
  Statement module(db_, "INSERT INTO module_state(run_id, file, module_hash) VALUES(?,?,?)");
  Statement watch(db_, "INSERT INTO watch_state(run_id, file, content_hash) VALUES(?,?,?)");
  for (Statement* s :
       {&find, &insert, &clear, &deps, &unit, &unit_id, &link, &batch, &module, &watch})
    if (!s->ok()) return fail("the dependencies");
  std::unordered_map<UnitKey, long long, UnitKeyHash> unit_ids;
  for (const auto& t : tests) {
    long long test_id = -1;
    find.text(1, t.nodeid);
    if (sqlite3_step(find.raw()) == SQLITE_ROW) test_id = sqlite3_column_int64(find.raw(), 0);
    sqlite3_reset(find.raw());
    if (test_id < 0) {
      size_t sep = t.nodeid.find("::");
      size_t last = t.nodeid.rfind("::");
      if (insert.text(1, t.nodeid)
              .text(2, t.nodeid.substr(0, sep))
              .text(3, last > sep && last != std::string::npos
                           ? t.nodeid.substr(sep + 2, last - sep - 2)
                           : "")
              .text(4, last == std::string::npos ? "" : t.nodeid.substr(last + 2))
              .step() != SQLITE_DONE)
        return fail("test " + t.nodeid);
      test_id = sqlite3_last_insert_rowid(db_);
    }
    if (clear.integer(1, test_id).step() != SQLITE_DONE ||
        deps.integer(1, test_id).integer(2, run_id).text(3, t.outcome).step() != SQLITE_DONE)
      return fail("the dependencies of " + t.nodeid);
    for (const auto& u : t.units) {
      UnitKey key{u.file, u.name, u.hash};
      auto it = unit_ids.find(key);
      if (it == unit_ids.end()) {
        auto h = static_cast<long long>(u.hash);
        if (unit.text(1, u.file).text(2, u.name).integer(3, h).step() != SQLITE_DONE)
          return fail("unit " + u.name);
        unit_id.text(1, u.file).text(2, u.name).integer(3, h);
        if (sqlite3_step(unit_id.raw()) != SQLITE_ROW) return fail("unit " + u.name);
        it = unit_ids.emplace(key, sqlite3_column_int64(unit_id.raw(), 0)).first;
        sqlite3_reset(unit_id.raw());
      }
      pending.emplace_back(test_id, it->second);
    }
    if (pending.size() >= kBatch && !flush(false)) return fail("the dependencies of " + t.nodeid);
  }
  if (!flush(true)) return fail("the dependencies");
  for (const auto& [file, h] : files.modules)
    if (module.integer(1, run_id).text(2, file).integer(3, static_cast<long long>(h)).step() !=
        SQLITE_DONE)
      return fail("the state of " + file);
  for (const auto& [file, h] : files.watched)
    if (watch.integer(1, run_id).text(2, file).integer(3, static_cast<long long>(h)).step() !=
        SQLITE_DONE)
      return fail("the state of " + file);
  // A run no test refers to any more: its file states compare nothing.
  if (!exec("DELETE FROM module_state WHERE run_id NOT IN (SELECT run_id FROM test_deps)") ||
      !exec("DELETE FROM watch_state WHERE run_id NOT IN (SELECT run_id FROM test_deps)") ||
      !exec("DELETE FROM unit WHERE id NOT IN (SELECT unit_id FROM test_unit)"))
    return fail("the store");
  return exec("COMMIT");
}

bool Store::load_deps(DepsSnapshot* out) {
  // One read transaction: a recording that lands meanwhile is seen whole or not at all.
  if (!exec("BEGIN")) return false;
  Statement tests(db_,
                  "SELECT t.nodeid, d.run_id, d.outcome FROM test_deps d "
                  "JOIN test t ON t.id = d.test_id");
  int rc = tests.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (tests.ok() && (rc = sqlite3_step(tests.raw())) == SQLITE_ROW) {
    TestDeps& t = out->tests[column_text(tests.raw(), 0)];
    t.nodeid = column_text(tests.raw(), 0);
    t.run_id = sqlite3_column_int64(tests.raw(), 1);
    t.outcome = column_text(tests.raw(), 2);
  }
  Statement units(db_,
                  "SELECT t.nodeid, u.file, u.name, u.hash FROM test_unit tu "
                  "JOIN test t ON t.id = tu.test_id JOIN unit u ON u.id = tu.unit_id");
  if (!query_failed(rc)) {
    rc = units.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
    while (units.ok() && (rc = sqlite3_step(units.raw())) == SQLITE_ROW)
      out->tests[column_text(units.raw(), 0)].units.push_back(
          {column_text(units.raw(), 1), column_text(units.raw(), 2),
           static_cast<uint64_t>(sqlite3_column_int64(units.raw(), 3))});
  }
  for (const char* sql : {"SELECT run_id, file, module_hash FROM module_state",
                          "SELECT run_id, file, content_hash FROM watch_state"}) {
    if (query_failed(rc)) break;
    Statement s(db_, sql);
    bool modules = std::string_view(sql).find("module_state") != std::string_view::npos;
    rc = s.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
    while (s.ok() && (rc = sqlite3_step(s.raw())) == SQLITE_ROW) {
      RunFiles& r = out->runs[sqlite3_column_int64(s.raw(), 0)];
      (modules ? r.modules : r.watched)[column_text(s.raw(), 1)] =
          static_cast<uint64_t>(sqlite3_column_int64(s.raw(), 2));
    }
  }
  bool ok = !query_failed(rc);
  exec("COMMIT");
  return ok;
}

}  // namespace testmap::store
