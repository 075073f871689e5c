// A prepared SQLite statement that finalizes itself; bind calls chain.
#pragma once

#include <sqlite3.h>

#include <string>

namespace testmap::store {

// Column `col` of the current row as text ("" for NULL).
inline std::string column_text(sqlite3_stmt* s, int col) {
  const unsigned char* v = sqlite3_column_text(s, col);
  return v ? reinterpret_cast<const char*>(v) : "";
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return stmt_ != nullptr; }
  Statement& text(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& integer(int i, long long v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  int step() {
    int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return rc;
  }
  sqlite3_stmt* raw() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace testmap::store
