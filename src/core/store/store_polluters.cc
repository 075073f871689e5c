// What `testmap bisect` found, kept for the report: the polluters of each test.
#include <sstream>

#include <fmt/format.h>

#include "core/store/statement.h"
#include "core/store/store.h"

namespace testmap::store {

bool Store::save_polluter(const Polluter& p) {
  std::string list;
  for (const auto& id : p.polluters) list += (list.empty() ? "" : "\n") + id;
  Statement put(db_,
                "INSERT INTO polluter (test, polluters, found, run_id, commit_sha, minimal, "
                "pytest_runs, reproduce) VALUES (?, ?, ?, NULLIF(?, 0), NULLIF(?, ''), ?, ?, ?)");
  auto failed = [this] {
    error_ = fmt::format("cannot write the polluter: {}", sqlite3_errmsg(db_));
    return false;
  };
  if (!put.ok()) return failed();
  put.text(1, p.test).text(2, list).real(3, p.found).integer(4, p.run_id).text(5, p.commit);
  put.integer(6, p.minimal ? 1 : 0).integer(7, p.pytest_runs).text(8, p.reproduce);
  return put.step() == SQLITE_DONE || failed();
}

bool Store::polluters(std::vector<Polluter>* out) {
  out->clear();
  // The newest row of each test: the largest id, as rows are only ever appended.
  Statement q(db_,
              "SELECT test, polluters, found, coalesce(run_id, 0), coalesce(commit_sha, ''), "
              "minimal, pytest_runs, reproduce FROM polluter WHERE id IN "
              "(SELECT max(id) FROM polluter GROUP BY test) ORDER BY found DESC, id DESC");
  if (!q.ok()) return query_failed(sqlite3_errcode(db_)), false;
  int rc;
  while ((rc = sqlite3_step(q.raw())) == SQLITE_ROW) {
    Polluter p;
    p.test = column_text(q.raw(), 0);
    std::istringstream lines(column_text(q.raw(), 1));
    for (std::string id; std::getline(lines, id);)
      if (!id.empty()) p.polluters.push_back(id);
    p.found = sqlite3_column_double(q.raw(), 2);
    p.run_id = sqlite3_column_int64(q.raw(), 3);
    p.commit = column_text(q.raw(), 4);
    p.minimal = sqlite3_column_int(q.raw(), 5) != 0;
    p.pytest_runs = sqlite3_column_int(q.raw(), 6);
    p.reproduce = column_text(q.raw(), 7);
    out->push_back(std::move(p));
  }
  return rc == SQLITE_DONE || (query_failed(rc), false);
}

}  // namespace testmap::store
