// Naming a recording's code by units and saving it with the tree's state.
#include "core/select/record.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <xxhash.h>

#include "core/classify/project.h"
#include "core/config/config.h"
#include "core/scan/scanner.h"
#include "core/select/units.h"
#include "core/util/git.h"
#include "core/util/glob.h"

namespace testmap::select {
namespace fs = std::filesystem;
namespace {

int severity(const std::string& outcome) {
  if (outcome == "failed" || outcome == "error") return 3;
  if (outcome == "skipped") return 1;
  return outcome == "passed" ? 0 : 2;  // unknown words rank above passed
}

std::string git_head(const std::string& root) {
  util::GitResult r = util::git(root, {"rev-parse", "HEAD"});
  std::string out = r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "";
  return out.size() == 40 ? out : "";
}

// The files under `root` that `glob` matches, walking from its first directory with a
// wildcard only (`docker/**` reads docker/ alone), past hidden directories.
void matching_files(const std::string& root, const std::string& glob, std::set<std::string>* out) {
  std::string base;
  for (size_t start = 0; start < glob.size();) {
    size_t slash = glob.find('/', start);
    if (slash == std::string::npos) break;  // the last segment names files
    std::string_view segment(glob.data() + start, slash - start);
    if (segment.find_first_of("*?[") != std::string_view::npos) break;
    base = glob.substr(0, slash);
    start = slash + 1;
  }
  std::error_code ec;
  fs::path top = base.empty() ? fs::path(root) : fs::path(root) / base;
  if (glob.find_first_of("*?[") == std::string::npos) {
    if (fs::is_regular_file(fs::path(root) / glob, ec)) out->insert(glob);
    return;
  }
  for (fs::recursive_directory_iterator it(top, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name.starts_with(".") || name == "__pycache__" || name == "node_modules")
        it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    std::string rel = it->path().lexically_relative(root).generic_string();
    if (glob_match(glob, rel)) out->insert(rel);
  }
}

}  // namespace

uint64_t content_hash(const std::string& path) {
  std::string bytes;
  if (!scan::read_file(path, &bytes)) return 0;
  return XXH3_64bits(bytes.data(), bytes.size()) | 1;  // never 0, which means unreadable
}

std::vector<std::string> watched_files(const std::string& root,
                                       const std::vector<std::string>& conftests,
                                       const std::vector<std::string>& run_all_when) {
  std::set<std::string> out(conftests.begin(), conftests.end());
  std::error_code ec;
  for (const auto& glob : run_all_when) matching_files(root, glob, &out);
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    bool config = name == "pyproject.toml" || name == "setup.cfg" || name == "setup.py" ||
                  name == "tox.ini" || name == "pytest.ini" || name == ".pytest.ini" ||
                  name == "noxfile.py" || name == "Pipfile" || name == "Pipfile.lock";
    bool pins = (name.starts_with("requirements") || name.starts_with("constraints")) &&
                (name.ends_with(".txt") || name.ends_with(".in"));
    if (config || pins || name.ends_with(".lock")) out.insert(name);
  }
  for (fs::directory_iterator it(fs::path(root) / "requirements", ec), end; !ec && it != end;
       it.increment(ec))
    if (it->path().extension() == ".txt" || it->path().extension() == ".in")
      out.insert("requirements/" + it->path().filename().string());
  return {out.begin(), out.end()};
}

bool save_recorded_deps(store::Store& s, const std::vector<runtime::TestRecord>& records,
                        const std::string& root, std::string* error,
                        const std::vector<std::pair<std::string, std::string>>& outside) {
  bool any = false;
  for (const auto& r : records) any |= r.has_deps;
  if (!any) return true;
  config::Config cfg = config::load_config(root);
  classify::Project project = classify::load_project(cfg);
  std::map<int, FileUnits> units;  // by file index, as needed
  auto units_for = [&](int file) -> const FileUnits& {
    auto it = units.find(file);
    if (it == units.end()) it = units.emplace(file, units_of(project.files[file].outline)).first;
    return it->second;
  };
  // Most tests run the same functions: each (file, qualname) pair is named by units once,
  // each unit kept once in `all`, and a test holds indices into it until the end.
  std::vector<store::TestDeps::Unit> all;
  std::unordered_map<std::string, int> unit_index;            // "file\0name"
  std::unordered_map<std::string, std::vector<int>> by_pair;  // "file\0qualname"
  auto intern = [&](const std::string& file, const std::string& name, uint64_t h) {
    auto [it, added] = unit_index.try_emplace(file + '\0' + name, static_cast<int>(all.size()));
    if (added) all.push_back({file, name, h});
    return it->second;
  };
  auto units_of_pair = [&](const std::string& file, const std::string& qualname) {
    auto [it, added] = by_pair.try_emplace(file + '\0' + qualname);
    if (!added) return it->second;
    std::vector<int>& out = it->second;
    if (qualname == kDataFile) {
      if (uint64_t h = content_hash((fs::path(cfg.root) / file).string()))
        out.push_back(intern(file, qualname, h));
      return out;
    }
    auto f = project.by_rel.find(file);
    if (f == project.by_rel.end()) return out;  // not a Python file of this tree
    const FileUnits& u = units_for(f->second);
    std::vector<std::string> names = units_of_code(u, qualname);
    if (names.empty()) names.push_back("");  // module-level code: the module's own lines
    for (const auto& name : names)
      out.push_back(
          intern(file, name,
                 name.empty() ? project.files[f->second].outline.module_hash : u.hash.at(name)));
    return out;
  };
  struct Test {
    std::string outcome;
    std::vector<int> units;
  };
  std::map<std::string, Test> by_test;
  bool receivers = false;
  for (const auto& r : records) {
    if (!r.has_deps) continue;
    std::string id = r.nodeid.substr(0, r.nodeid.find('['));
    Test& t = by_test[id];
    if (t.outcome.empty() || severity(r.outcome) > severity(t.outcome)) t.outcome = r.outcome;
    // The test's own file is a dependency even when its code ran at collection only.
    for (int i : units_of_pair(id.substr(0, id.find("::")), "")) t.units.push_back(i);
    for (const auto& [file, qualname] : r.deps) {
      if (file == kReceiversRecorded) {
        receivers = true;
        continue;
      }
      for (int i : units_of_pair(file, qualname)) t.units.push_back(i);
    }
  }
  store::RunFiles state;
  if (receivers) state.modules[kReceiversRecorded] = 1;
  std::vector<std::string> conftests;
  for (const auto& f : project.files) {
    state.modules[f.rel] = f.outline.module_hash;
    state.modules[whole_key(f.rel)] = outline_digest(f.outline);
    // Class bodies too, as "file::Class": a change to one reaches the tests that used a
    // class related to it by inheritance, which recorded only that relative.
    for (const auto& c : f.outline.classes)
      if (!c.in_function) state.modules[class_key(f.rel, c.qualname)] = c.own_hash;
    // And each top-level binding, as "file:=NAME": a changed constant reaches the code
    // that can read it.
    for (const auto& [name, h] : f.outline.bindings) state.modules[binding_key(f.rel, name)] = h;
    if (f.is_conftest) conftests.push_back(f.rel);
  }
  for (const auto& [file, qualname] : outside) {
    auto f = project.by_rel.find(file);
    if (f == project.by_rel.end()) continue;
    const FileUnits& u = units_for(f->second);
    // Functions only: a class body runs at import by definition, and the class rules
    // follow a change to it to the tests that met the class.
    for (const auto& name : units_of_code(u, qualname))
      if (!u.classes.count(name) && name != kWholeFile)
        state.modules[import_key(file, name)] = u.hash.at(name);
  }
  for (const auto& rel : watched_files(cfg.root, conftests, cfg.run_all_when))
    state.watched[rel] = content_hash((fs::path(cfg.root) / rel).string());
  std::vector<store::TestDeps> tests;
  tests.reserve(by_test.size());
  for (auto& [id, t] : by_test) {
    std::sort(t.units.begin(), t.units.end());
    t.units.erase(std::unique(t.units.begin(), t.units.end()), t.units.end());
    store::TestDeps& out = tests.emplace_back();
    out.nodeid = id;
    out.outcome = t.outcome;
    out.units.reserve(t.units.size());
    for (int i : t.units) out.units.push_back(all[i]);
  }
  if (!s.save_deps(tests, state, git_head(cfg.root))) {
    *error = s.error();
    return false;
  }
  return true;
}

}  // namespace testmap::select
