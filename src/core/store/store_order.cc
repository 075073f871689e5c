// The order recorded runs ran their tests in and what two tests share (`testmap bisect`), and
// the outcomes runs of known code had (`testmap flaky`), and each process's sequence of tests
// (`--dist testmap`).
#include <set>

#include <fmt/format.h>

#include "core/store/nodeid.h"
#include "core/store/statement.h"
#include "core/store/store.h"

namespace testmap::store {

bool Store::order_before(const std::string& nodeid, long long run_id, RunOrder* out, bool* found) {
  auto fail = [this](int rc) {  // words error() and gives up
    query_failed(rc);
    return false;
  };
  *found = false;
  Statement where(db_,
                  "SELECT d.run_id, d.worker, d.position, d.outcome FROM duration d "
                  "JOIN test t ON t.id = d.test_id "
                  "WHERE t.nodeid = ? AND d.variant = ? AND d.worker IS NOT NULL "
                  "AND (?3 != 0 AND d.run_id = ?3 OR ?3 = 0 AND d.outcome IN ('failed', 'error')) "
                  "ORDER BY d.run_id DESC LIMIT 1");
  if (!where.ok()) return fail(sqlite3_errcode(db_));
  where.text(1, strip_params(nodeid)).text(2, params_of(nodeid)).integer(3, run_id);
  int rc = sqlite3_step(where.raw());
  if (rc == SQLITE_DONE) return true;
  if (rc != SQLITE_ROW) return fail(rc);
  out->run_id = sqlite3_column_int64(where.raw(), 0);
  out->worker = column_text(where.raw(), 1);
  long long position = sqlite3_column_int64(where.raw(), 2);
  out->outcome = column_text(where.raw(), 3);
  *found = true;
  Statement before(db_,
                   "SELECT t.nodeid || d.variant FROM duration d JOIN test t ON t.id = d.test_id "
                   "WHERE d.run_id = ? AND d.worker = ? AND d.position < ? ORDER BY d.position");
  if (!before.ok()) return fail(sqlite3_errcode(db_));
  before.text(2, out->worker);
  sqlite3_bind_int64(before.raw(), 1, out->run_id);
  sqlite3_bind_int64(before.raw(), 3, position);
  out->before.clear();
  while ((rc = sqlite3_step(before.raw())) == SQLITE_ROW)
    out->before.push_back(column_text(before.raw(), 0));
  return rc == SQLITE_DONE || fail(rc);
}

bool Store::shared_use(const std::string& a, const std::string& b, SharedUse* out) {
  auto fail = [this](int rc) {  // words error() and gives up
    query_failed(rc);
    return false;
  };
  // Services both used at run time; the detail says in which phase and through what.
  Statement services(db_,
                     "SELECT DISTINCT u.service FROM service_use u JOIN test t ON t.id = u.test_id "
                     "WHERE t.nodeid = ?1 AND u.source = 'runtime' INTERSECT "
                     "SELECT DISTINCT u.service FROM service_use u JOIN test t ON t.id = u.test_id "
                     "WHERE t.nodeid = ?2 AND u.source = 'runtime' ORDER BY 1");
  // Project code both ran (pytest --testmap-deps), outside the two tests' own files.
  Statement code(db_,
                 "SELECT u.file, u.name FROM unit u JOIN test_unit tu ON tu.unit_id = u.id "
                 "JOIN test t ON t.id = tu.test_id WHERE t.nodeid = ?1 INTERSECT "
                 "SELECT u.file, u.name FROM unit u JOIN test_unit tu ON tu.unit_id = u.id "
                 "JOIN test t ON t.id = tu.test_id WHERE t.nodeid = ?2 ORDER BY 1, 2");
  if (!services.ok() || !code.ok()) return fail(sqlite3_errcode(db_));
  std::string ta = strip_params(a), tb = strip_params(b);
  std::set<std::string> own = {std::get<0>(split_nodeid(ta)), std::get<0>(split_nodeid(tb))};
  out->services.clear();
  out->code.clear();
  services.text(1, ta).text(2, tb);
  int rc;
  while ((rc = sqlite3_step(services.raw())) == SQLITE_ROW)
    out->services.push_back(column_text(services.raw(), 0));
  if (rc != SQLITE_DONE) return fail(rc);
  code.text(1, ta).text(2, tb);
  while ((rc = sqlite3_step(code.raw())) == SQLITE_ROW) {
    std::string file = column_text(code.raw(), 0), name = column_text(code.raw(), 1);
    if (own.count(file) || file.ends_with("conftest.py")) continue;
    out->code.push_back(name == "*" ? file : fmt::format("{}::{}", file, name));
  }
  return rc == SQLITE_DONE || fail(rc);
}

bool Store::comparable_outcomes(std::vector<flaky::Outcome>* out) {
  Statement q(db_,
              "SELECT t.nodeid || d.variant, r.code, d.outcome, r.id, r.started, "
              "coalesce(d.worker, '') FROM duration d JOIN test t ON t.id = d.test_id "
              "JOIN run r ON r.id = d.run_id WHERE r.code IS NOT NULL "
              "AND d.outcome IN ('passed', 'failed', 'error') ORDER BY r.id");
  if (!q.ok()) {
    query_failed(sqlite3_errcode(db_));
    return false;
  }
  int rc;
  while ((rc = sqlite3_step(q.raw())) == SQLITE_ROW)
    out->push_back({column_text(q.raw(), 0), column_text(q.raw(), 1), column_text(q.raw(), 2),
                    sqlite3_column_int64(q.raw(), 3), sqlite3_column_double(q.raw(), 4),
                    column_text(q.raw(), 5)});
  if (rc != SQLITE_DONE) {
    query_failed(rc);
    return false;
  }
  return true;
}

bool Store::worker_sequences(int runs, std::vector<WorkerSequence>* out) {
  Statement q(db_,
              "SELECT d.run_id, d.worker, t.nodeid || d.variant, d.seconds FROM duration d "
              "JOIN test t ON t.id = d.test_id WHERE d.worker IS NOT NULL AND d.run_id IN "
              "(SELECT DISTINCT run_id FROM duration WHERE worker IS NOT NULL "
              "ORDER BY run_id DESC LIMIT ?) ORDER BY d.run_id, d.worker, d.position");
  if (!q.ok()) {
    query_failed(sqlite3_errcode(db_));
    return false;
  }
  q.integer(1, runs);
  long long last_run = -1;
  std::string last_worker;
  int rc;
  while ((rc = sqlite3_step(q.raw())) == SQLITE_ROW) {
    long long run = sqlite3_column_int64(q.raw(), 0);
    std::string worker = column_text(q.raw(), 1);
    if (out->empty() || run != last_run || worker != last_worker) out->emplace_back();
    last_run = run;
    last_worker = worker;
    out->back().push_back({column_text(q.raw(), 2), sqlite3_column_double(q.raw(), 3)});
  }
  if (rc != SQLITE_DONE) {
    query_failed(rc);
    return false;
  }
  return true;
}

bool Store::runs_seen(size_t* runs, double* newest, std::string* commit) {
  Statement q(db_,
              // A run counts when it stored a duration: a pytest that stopped at collection
              // stored none, and a --testmap-deps recording is part of a run counted already.
              "WITH counted AS (SELECT DISTINCT run_id AS id FROM duration) "
              "SELECT (SELECT COUNT(*) FROM counted), started, COALESCE(commit_sha, '') "
              "FROM run WHERE id IN counted OR kind = 'deps' "
              "ORDER BY started DESC, id DESC LIMIT 1");
  if (!q.ok()) {
    query_failed(sqlite3_errcode(db_));
    return false;
  }
  *runs = 0;
  int rc = sqlite3_step(q.raw());
  if (rc == SQLITE_ROW) {
    *runs = static_cast<size_t>(sqlite3_column_int64(q.raw(), 0));
    *newest = sqlite3_column_double(q.raw(), 1);
    *commit = column_text(q.raw(), 2);
    rc = sqlite3_step(q.raw());
  }
  if (rc != SQLITE_DONE) {
    query_failed(rc);
    return false;
  }
  return true;
}

}  // namespace testmap::store
