// The schema version of a test database: a hash of the files that define the schema
// (migrations, models) and of the settings that matter, so an unchanged schema reuses its
// template and any change builds a new one (docs/db.md).
#pragma once

#include <string>
#include <vector>

namespace testmap::db {

struct SchemaHash {
  std::string hex;  // 16 hex digits
  size_t files = 0;
};

// Every file under `root` matching one of `globs` (relative, '/'-separated), in path
// order, path and content, then each of `extra`.
SchemaHash schema_hash(const std::string& root, const std::vector<std::string>& globs,
                       const std::vector<std::string>& extra);

// One file's content hash (16 hex digits), or "" when it cannot be read: what an
// incremental build compares to tell an applied migration from an edited one.
std::string file_digest(const std::string& path);

}  // namespace testmap::db
