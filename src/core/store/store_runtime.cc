// Recorded runs in the store: merging the plugin's JSON lines, reading them back.
#include <chrono>
#include <filesystem>
#include <set>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/store/nodeid.h"
#include "core/store/statement.h"
#include "core/store/store.h"

namespace testmap::store {

bool Store::merge_runtime(const std::vector<runtime::TestRecord>& records, const std::string& kind,
                          const std::string& code) {
  if (!exec("BEGIN IMMEDIATE")) return false;
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  Statement run(db_, "INSERT INTO run(kind, started, code) VALUES(?, ?, ?)");
  run.text(1, kind).real(2, now);
  if (!code.empty()) run.text(3, code);  // else NULL: not comparable with any other run
  run.step();
  long long run_id = sqlite3_last_insert_rowid(db_);
  Statement find(db_, "SELECT id FROM test WHERE nodeid = ?");
  Statement insert(db_, "INSERT INTO test(nodeid, file, class, function) VALUES(?,?,?,?)");
  Statement clear(db_, "DELETE FROM service_use WHERE test_id = ? AND source = 'runtime'");
  Statement use(db_,
                "INSERT INTO service_use(test_id, service, phase, source, rule, detail) "
                "VALUES(?,?,?,'runtime',?,?)");
  Statement duration(db_,
                     "INSERT INTO duration(test_id, run_id, seconds, outcome, variant, worker, "
                     "position) VALUES(?,?,?,?,?,?,?)");
  if (!find.ok() || !insert.ok() || !clear.ok() || !use.ok() || !duration.ok()) {
    error_ = sqlite3_errmsg(db_);
    exec("ROLLBACK");
    return false;
  }
  auto fail = [&](const std::string& what) {
    error_ = fmt::format("cannot write {}: {}", what, sqlite3_errmsg(db_));
    exec("ROLLBACK");
    return false;
  };
  std::unordered_map<std::string, long long> ids;  // tests seen in this run, cleared once
  std::set<std::string> with_phases;
  for (const auto& r : records)
    if (r.has_phases) with_phases.insert(strip_params(r.nodeid));
  std::set<std::tuple<long long, std::string, std::string, std::string, std::string>> written;
  for (const auto& r : records) {
    std::string id = strip_params(r.nodeid);
    auto it = ids.find(id);
    if (it == ids.end()) {
      long long test_id = -1;
      find.text(1, id);
      if (sqlite3_step(find.raw()) == SQLITE_ROW) test_id = sqlite3_column_int64(find.raw(), 0);
      sqlite3_reset(find.raw());
      if (test_id < 0) {
        auto [file, cls, function] = split_nodeid(id);
        if (insert.text(1, id).text(2, file).text(3, cls).text(4, function).step() != SQLITE_DONE)
          return fail("test " + id);
        test_id = sqlite3_last_insert_rowid(db_);
      }
      it = ids.emplace(id, test_id).first;
      // A run that saw services replaces what earlier runs saw; durations alone do not.
      if (with_phases.count(id) && clear.integer(1, test_id).step() != SQLITE_DONE)
        return fail("test " + id);
    }
    long long test_id = it->second;
    auto add = [&](const std::string& service, const std::string& phase, const char* rule,
                   const std::string& detail) {
      if (!written.emplace(test_id, service, phase, rule, detail).second) return true;
      return use.integer(1, test_id)
                 .text(2, service)
                 .text(3, phase)
                 .text(4, rule)
                 .text(5, detail)
                 .step() == SQLITE_DONE;
    };
    for (const auto& [phase, p] : r.phases) {
      std::set<std::string> shared(p.shared.begin(), p.shared.end());
      for (const auto& s : p.services) {
        // "used in setup by fixture redis_client": which code to look at, and what
        // `testmap init --record` turns into a fixtures rule (core/init/draft.cc reads the
        // names back from this sentence: keep the two in step).
        std::string by = shared.count(s) ? " by a shared fixture" : "";
        if (auto f = p.fixtures.find(s); f != p.fixtures.end() && !f->second.empty())
          by = fmt::format(" by {}fixture {}", shared.count(s) ? "the shared " : "",
                           fmt::join(f->second, ", "));
        if (!add(s, phase, shared.count(s) ? "runtime-shared" : "runtime",
                 fmt::format("used in {}{}", phase, by)))
          return fail("the services of " + r.nodeid);
      }
      for (const auto& a : p.external)
        if (!add("external", phase, "runtime", a)) return fail("the services of " + r.nodeid);
    }
    duration.integer(1, test_id)
        .integer(2, run_id)
        .real(3, r.duration)
        .text(4, r.outcome)
        .text(5, params_of(r.nodeid));
    if (!r.worker.empty()) duration.text(6, r.worker).integer(7, r.position);  // else NULL
    if (duration.step() != SQLITE_DONE) return fail("the duration of " + r.nodeid);
  }
  return exec("COMMIT");
}

bool load_runtime_uses(const std::string& root, classify::RuntimeUses* out, std::string* error) {
  Store s(default_path(root), Access::kRead);
  if (s.missing()) return true;
  if (!s.ok() || !s.runtime_uses(out)) {
    *error = fmt::format("cannot read the store {}: {}", default_path(root), s.error());
    return false;
  }
  return true;
}

namespace {

// One snapshot for reads that must agree (the test ids, then the rows naming them): a record
// writing between them is seen by both or by neither.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(sqlite3* db) : db_(db), own_(sqlite3_get_autocommit(db) != 0) {
    if (own_) sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
  }
  ~ReadSnapshot() {
    if (own_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  sqlite3* db_;
  bool own_;
};

}  // namespace

// Each test's node id by its row id: durations are read without joining the test table,
// which on 250,000 rows costs more than the rest of the read.
bool Store::nodeids(std::unordered_map<long long, std::string>* out) {
  Statement q(db_, "SELECT id, nodeid FROM test");
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW)
    out->emplace(sqlite3_column_int64(q.raw(), 0), column_text(q.raw(), 1));
  return !query_failed(rc);
}

bool Store::recent_durations(int n, std::map<std::string, std::vector<double>>* out) {
  ReadSnapshot snapshot(db_);
  std::unordered_map<long long, std::string> names;
  if (!nodeids(&names)) return false;
  Statement q(db_,
              "SELECT test_id, sum(seconds) FROM duration "
              "WHERE outcome IS NULL OR outcome != 'skipped' "
              "GROUP BY test_id, run_id ORDER BY test_id, run_id DESC");
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  long long current = -1;
  std::vector<double>* v = nullptr;
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW) {
    long long test = sqlite3_column_int64(q.raw(), 0);
    if (test != current) {  // rows come a test at a time: one lookup per test, not per row
      current = test;
      v = &(*out)[names[test]];
    }
    if (static_cast<int>(v->size()) < n) v->push_back(sqlite3_column_double(q.raw(), 1));
  }
  return !query_failed(rc);
}

bool Store::recent_variant_durations(int n, std::map<std::string, std::vector<double>>* out) {
  ReadSnapshot snapshot(db_);
  std::unordered_map<long long, std::string> names;
  if (!nodeids(&names)) return false;
  Statement q(db_,
              "SELECT test_id, variant, sum(seconds) FROM duration "
              "WHERE outcome IS NULL OR outcome != 'skipped' "
              "GROUP BY test_id, variant, run_id ORDER BY test_id, variant, run_id DESC");
  std::set<std::string> with_variants;
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  long long current = -1;
  std::string current_variant;
  std::vector<double>* v = nullptr;
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW) {
    long long test = sqlite3_column_int64(q.raw(), 0);
    std::string variant = column_text(q.raw(), 1);
    if (test != current || variant != current_variant || !v) {
      current = test;
      current_variant = variant;
      const std::string& id = names[test];
      if (!variant.empty()) with_variants.insert(id);
      v = &(*out)[id + variant];
    }
    if (static_cast<int>(v->size()) < n) v->push_back(sqlite3_column_double(q.raw(), 2));
  }
  // Rows from before variants were stored (a version 2 store) sum a test's variants: once
  // the variants themselves are known, that sum names no test pytest would run.
  for (const auto& id : with_variants) out->erase(id);
  return !query_failed(rc);
}

bool Store::runtime_uses(classify::RuntimeUses* out) {
  ReadSnapshot snapshot(db_);
  Statement q(db_,
              "SELECT t.nodeid, u.service, u.phase, u.rule, u.detail FROM service_use u "
              "JOIN test t ON t.id = u.test_id WHERE u.source = 'runtime' "
              "ORDER BY t.nodeid, u.rowid");
  auto text = [](Statement& s, int col) {
    const unsigned char* v = sqlite3_column_text(s.raw(), col);
    return v ? std::string(reinterpret_cast<const char*>(v)) : std::string();
  };
  int rc = q.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (q.ok() && (rc = sqlite3_step(q.raw())) == SQLITE_ROW)
    out->uses[text(q, 0)].push_back(
        {text(q, 1), text(q, 2), text(q, 3) == "runtime-shared", text(q, 4)});
  if (query_failed(rc)) return false;
  std::unordered_map<long long, std::string> names;
  if (!nodeids(&names)) return false;
  Statement p(db_,
              "SELECT DISTINCT d.test_id FROM duration d JOIN run r ON r.id = d.run_id "
              "WHERE r.kind = 'record' AND d.outcome = 'passed'");
  rc = p.ok() ? SQLITE_ROW : sqlite3_errcode(db_);
  while (p.ok() && (rc = sqlite3_step(p.raw())) == SQLITE_ROW)
    out->passed.insert(names[sqlite3_column_int64(p.raw(), 0)]);
  return !query_failed(rc);
}

}  // namespace testmap::store
