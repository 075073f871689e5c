// Merging run directories into the store, with .testmap/pending/ as the side file.
#include "core/runtime/merge_run.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/runtime/results.h"
#include "core/select/record.h"
#include "core/store/store.h"

namespace testmap::runtime {
namespace fs = std::filesystem;

std::string recorded_root(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("meta-") || it->path().extension() != ".json") continue;
    std::ifstream in(it->path());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_object() && j.contains("root") && j["root"].is_string()) return j["root"];
  }
  return "";
}

namespace {

bool merge_one(const fs::path& dir, const std::string& root, const std::string& kind,
               MergeSummary* m, std::string* error) {
  Diagnostics diags;
  std::vector<TestRecord> records = read_results(dir.string(), &diags);
  // Each worker's code run outside its tests (imports at collection).
  std::vector<std::pair<std::string, std::string>> outside = read_outside(dir.string(), &diags);
  for (const auto& d : diags) m->messages.push_back(d.format());
  store::Store s(store::default_path(root));
  if (!s.ok()) {
    *error = fmt::format("cannot use the store {}: {}", store::default_path(root), s.error());
    return false;
  }
  std::string deps_error;
  std::string code;  // written by whoever started the run (code_version.h)
  std::ifstream(dir / "code.txt") >> code;
  if (!s.merge_runtime(records, kind, code) ||
      !select::save_recorded_deps(s, records, root, &deps_error, outside)) {
    *error = fmt::format("cannot write the store {}: {}", store::default_path(root),
                         deps_error.empty() ? s.error() : deps_error);
    return false;
  }
  for (const auto& r : records) {
    ++m->tests;
    std::string id = r.nodeid.substr(0, r.nodeid.find('['));
    m->test_ids.insert(id);
    for (const auto& [phase, p] : r.phases) {
      for (const auto& svc : p.services) m->services.insert(svc), m->with_services.insert(id);
      for (const auto& addr : p.external) m->external.insert(addr), m->external_tests.insert(id);
    }
  }
  return true;
}

}  // namespace

MergeSummary merge_runs(const std::string& root, const std::string& dir, const std::string& kind) {
  MergeSummary m;
  std::error_code ec;
  fs::path pending = fs::path(root) / ".testmap" / "pending";
  std::vector<fs::path> runs;
  for (fs::directory_iterator it(pending, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory()) runs.push_back(it->path());
  std::sort(runs.begin(), runs.end());
  runs.push_back(dir);
  for (const auto& r : runs) {
    std::string error;
    size_t before = m.tests;
    if (merge_one(r, root, r == fs::path(dir) ? kind : "record", &m, &error)) {
      if (r != fs::path(dir)) {
        m.earlier_tests += m.tests - before;
        m.messages.push_back(
            m.tests == before
                ? fmt::format("an earlier run left {} with no finished test in it", r.string())
                : fmt::format("merged {} tests that an earlier run left in {} (it was killed, "
                              "or the store could not take them then)",
                              m.tests - before, r.string()));
      }
      fs::remove_all(r, ec);
      continue;
    }
    m.ok = false;
    m.messages.push_back(error);
    if (r == fs::path(dir)) {
      fs::path keep = pending / fs::path(dir).filename();
      fs::create_directories(pending, ec);
      fs::rename(dir, keep, ec);
      if (ec) {  // another filesystem: copy
        fs::copy(dir, keep, fs::copy_options::recursive, ec);
        fs::remove_all(dir, ec);
      }
      m.messages.push_back(fmt::format(
          "the results are kept in {}; the next `testmap record` merges them", keep.string()));
    }
  }
  return m;
}

}  // namespace testmap::runtime
