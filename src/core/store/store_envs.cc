// Durations of tox environments and nox sessions (imported from tox --result-json and
// `testmap envs run --result-json`), for `testmap ci --envs`; and CI jobs' set-up seconds.
#include <chrono>
#include <functional>

#include <fmt/format.h>

#include "core/plan/estimate.h"
#include "core/store/statement.h"
#include "core/store/store.h"

namespace testmap::store {

bool Store::insert_run(const char* kind, const char* what, const char* sql,
                       const std::function<bool(Statement&, long long)>& rows) {
  auto failed = [&] {
    error_ = fmt::format("cannot write {}: {}", what, sqlite3_errmsg(db_));
    exec("ROLLBACK");
    return false;
  };
  if (!exec("BEGIN IMMEDIATE")) return false;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Statement run(db_, "INSERT INTO run(kind, started) VALUES(?, ?)");
  if (!run.ok() || run.text(1, kind).real(2, now).step() != SQLITE_DONE) return failed();
  Statement put(db_, sql);
  if (!put.ok() || !rows(put, sqlite3_last_insert_rowid(db_))) return failed();
  return exec("COMMIT") || failed();
}

bool Store::save_env_durations(const std::vector<std::tuple<std::string, double, bool>>& envs) {
  return insert_run(
      "tox", "the environments' durations",
      "INSERT INTO env_duration(run_id, env, seconds, success) VALUES(?,?,?,?)",
      [&](Statement& put, long long run_id) {
        for (const auto& [env, seconds, success] : envs)
          if (put.integer(1, run_id).text(2, env).real(3, seconds).integer(4, success).step() !=
              SQLITE_DONE)
            return false;
        return true;
      });
}

bool Store::env_durations(int n, std::map<std::string, double>* out) {
  Statement q(db_, "SELECT env, seconds FROM env_duration ORDER BY env, run_id DESC");
  std::map<std::string, std::vector<double>> runs;
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW) {
    auto& v = runs[column_text(q.raw(), 0)];
    if (static_cast<int>(v.size()) < n) v.push_back(sqlite3_column_double(q.raw(), 1));
  }
  if (query_failed(rc)) return false;
  for (const auto& [env, v] : runs) (*out)[env] = plan::median(v);
  return true;
}

bool Store::save_job_setups(const std::vector<std::tuple<std::string, std::string, double>>& jobs) {
  return insert_run(
      "job", "the jobs' set-up seconds",
      "INSERT INTO job_setup(run_id, job, kind, seconds) VALUES(?,?,?,?)",
      [&](Statement& put, long long run_id) {
        for (const auto& [job, kind, seconds] : jobs)
          if (put.integer(1, run_id).text(2, job).text(3, kind).real(4, seconds).step() !=
              SQLITE_DONE)
            return false;
        return true;
      });
}

bool Store::job_setup(const std::string& kind, int n, double* median, int* count) {
  Statement q(db_, "SELECT seconds FROM job_setup WHERE kind = ? ORDER BY run_id DESC LIMIT ?");
  if (q.ok()) q.text(1, kind).integer(2, n);
  std::vector<double> v;
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW)
    v.push_back(sqlite3_column_double(q.raw(), 0));
  if (query_failed(rc)) return false;
  *count = static_cast<int>(v.size());
  if (!v.empty()) *median = plan::median(v);
  return true;
}

}  // namespace testmap::store
