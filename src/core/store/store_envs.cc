// Durations of tox environments (imported from tox --result-json), for `testmap ci --envs`.
#include <chrono>

#include <fmt/format.h>

#include "core/plan/estimate.h"
#include "core/store/statement.h"
#include "core/store/store.h"

namespace testmap::store {

bool Store::save_env_durations(const std::vector<std::tuple<std::string, double, bool>>& envs) {
  auto failed = [this] {
    error_ = fmt::format("cannot write the environments' durations: {}", sqlite3_errmsg(db_));
    exec("ROLLBACK");
    return false;
  };
  if (!exec("BEGIN IMMEDIATE")) return false;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Statement run(db_, "INSERT INTO run(kind, started) VALUES('tox', ?)");
  if (!run.ok() || run.real(1, now).step() != SQLITE_DONE) return failed();
  long long run_id = sqlite3_last_insert_rowid(db_);
  Statement put(db_, "INSERT INTO env_duration(run_id, env, seconds, success) VALUES(?,?,?,?)");
  if (!put.ok()) return failed();
  for (const auto& [env, seconds, success] : envs)
    if (put.integer(1, run_id).text(2, env).real(3, seconds).integer(4, success).step() !=
        SQLITE_DONE)
      return failed();
  return exec("COMMIT") || failed();
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

}  // namespace testmap::store
