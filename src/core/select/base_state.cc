// The files changed since a commit, read back at that commit. Only these are read from git;
// every other file's state is the working tree's, which is the same.
#include "core/select/base_state.h"

#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <xxhash.h>

#include "core/scan/scanner.h"
#include "core/select/module_changes.h"
#include "core/select/units.h"
#include "core/util/git.h"

namespace testmap::select {
namespace fs = std::filesystem;
namespace {

void put_states(store::RunFiles& files, const std::string& rel, const scan::Outline& o) {
  files.modules[rel] = o.module_hash;
  files.modules[whole_key(rel)] = outline_digest(o);
  for (const auto& c : o.classes)
    if (!c.in_function) files.modules[class_key(rel, c.qualname)] = c.own_hash;
  for (const auto& [name, h] : o.bindings) files.modules[binding_key(rel, name)] = h;
}

void drop_states(store::RunFiles& files, const std::string& rel) {
  files.modules.erase(rel);
  files.modules.erase(whole_key(rel));
  for (const std::string& prefix : {class_key(rel, ""), binding_key(rel, "")})
    for (auto it = files.modules.lower_bound(prefix);
         it != files.modules.end() && it->first.starts_with(prefix);)
      it = files.modules.erase(it);
}

}  // namespace

BaseState base_state(const classify::Project& project, const std::string& ref,
                     const std::map<std::string, uint64_t>& watched_now) {
  BaseState b;
  b.label = ref;
  const std::string& root = project.root;
  util::GitResult inside = util::git(root, {"rev-parse", "--is-inside-work-tree"});
  if (!inside.ran) {
    b.run_all = fmt::format("--base {}: git cannot be run here", ref);
    return b;
  }
  if (inside.status != 0) {
    b.run_all = fmt::format("--base {}: {} is not in a git work tree", ref, root);
    return b;
  }
  util::GitResult commit = util::git(root, {"rev-parse", "--verify", "--quiet", ref + "^{commit}"});
  if (commit.status != 0) {
    bool shallow =
        util::git(root, {"rev-parse", "--is-shallow-repository"}).out.starts_with("true");
    b.run_all = shallow ? fmt::format(
                              "--base {}: no such commit in this shallow clone (fetch more "
                              "history: git fetch --deepen=N, or --unshallow)",
                              ref)
                        : fmt::format("--base {}: no such commit here", ref);
    return b;
  }
  std::string sha = commit.out.substr(0, 40);
  // Tracked files that differ from REF (committed since, staged or not) and untracked ones.
  util::GitResult diff =
      util::git(root, {"diff", "--name-only", "--no-renames", "--relative", "-z", sha, "--", "."});
  util::GitResult untracked =
      util::git(root, {"ls-files", "--others", "--exclude-standard", "-z", "--", "."});
  if (diff.status != 0 || untracked.status != 0) {
    b.run_all = fmt::format("--base {}: git diff failed: {}", ref,
                            diff.status != 0 ? diff.err : untracked.err);
    return b;
  }
  std::set<std::string> changed;
  for (auto& p : util::split_nul(diff.out)) changed.insert(std::move(p));
  for (auto& p : util::split_nul(untracked.out)) changed.insert(std::move(p));

  for (const auto& f : project.files) put_states(b.files, f.rel, f.outline);
  b.files.watched = watched_now;
  auto at_ref = [&](const std::string& rel, std::string* bytes) {
    util::GitResult r = util::git(root, {"show", sha + ":./" + rel});
    if (r.status != 0) return false;
    *bytes = std::move(r.out);
    return true;
  };
  for (const auto& rel : changed) {
    std::error_code ec;
    fs::path abs = fs::path(root) / rel;
    if (fs::is_directory(abs, ec)) {  // a submodule: its own history is not followed
      b.changed_dirs.push_back(rel);
      continue;
    }
    std::string then;
    bool existed = at_ref(rel, &then);
    if (watched_now.count(rel) || b.files.watched.count(rel) ||
        fs::path(rel).filename() == "conftest.py") {
      if (existed)
        b.files.watched[rel] = XXH3_64bits(then.data(), then.size()) | 1;
      else
        b.files.watched.erase(rel);
    }
    auto now_file = project.by_rel.find(rel);
    if (!rel.ends_with(".py")) {
      b.units.emplace(unit_key(rel, kDataFile), fmt::format("{} changed since {}", rel, ref));
      continue;
    }
    FileUnits now_units, then_units;
    if (now_file != project.by_rel.end())
      now_units = units_of(project.files[now_file->second].outline);
    drop_states(b.files, rel);
    if (existed) {
      scan::Outline o = scan::scan_source(then, rel);
      put_states(b.files, rel, o);
      then_units = units_of(o);
      if (now_file == project.by_rel.end() ||
          o.module_hash != project.files[now_file->second].outline.module_hash)
        b.units.emplace(unit_key(rel, ""),
                        fmt::format("the module-level code of {} changed since {}", rel, ref));
    }
    std::set<std::string> names;
    for (const auto& [n, h] : now_units.hash) names.insert(n);
    for (const auto& [n, h] : then_units.hash) names.insert(n);
    for (const auto& n : names) {
      auto a = then_units.hash.find(n), c = now_units.hash.find(n);
      if (a != then_units.hash.end() && c != now_units.hash.end() && a->second == c->second)
        continue;
      std::string what = n == kWholeFile ? rel : rel + "::" + n;
      b.units.emplace(unit_key(rel, n), c == now_units.hash.end()
                                            ? fmt::format("{} was removed since {}", what, ref)
                                            : fmt::format("{} changed since {}", what, ref));
    }
  }
  return b;
}

}  // namespace testmap::select
