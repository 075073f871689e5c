// Hashing the files and settings that define a schema.
#include "core/db/schema_hash.h"

#include <xxhash.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/util/glob.h"

namespace testmap::db {
namespace fs = std::filesystem;

SchemaHash schema_hash(const std::string& root, const std::vector<std::string>& globs,
                       const std::vector<std::string>& extra) {
  std::vector<std::string> files;
  std::error_code ec;
  auto it =
      fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
  for (auto end = fs::recursive_directory_iterator(); !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name.starts_with(".") || name == "__pycache__" || name == "node_modules")
        it.disable_recursion_pending();
      continue;
    }
    std::string rel = fs::relative(it->path(), root, ec).generic_string();
    for (const auto& g : globs)
      if (glob_match(g, rel)) {
        files.push_back(rel);
        break;
      }
  }
  std::sort(files.begin(), files.end());
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::string buf;
  for (const auto& rel : files) {
    XXH3_64bits_update(st, rel.data(), rel.size() + 1);
    std::ifstream in(fs::path(root) / rel, std::ios::binary);
    buf.assign(std::istreambuf_iterator<char>(in), {});
    uint64_t size = buf.size();
    XXH3_64bits_update(st, &size, sizeof size);  // where one file ends and the next begins
    XXH3_64bits_update(st, buf.data(), buf.size());
  }
  for (const auto& e : extra) XXH3_64bits_update(st, e.data(), e.size() + 1);
  SchemaHash out{fmt::format("{:016x}", XXH3_64bits_digest(st)), files.size()};
  XXH3_freeState(st);
  return out;
}

std::string file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string buf(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) return "";
  return fmt::format("{:016x}", XXH3_64bits(buf.data(), buf.size()));
}

}  // namespace testmap::db
