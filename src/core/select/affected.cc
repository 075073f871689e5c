// Comparing each test's recorded units with the working tree, and following module-level
// changes to every file that imports them.
#include "core/select/affected.h"

#include <deque>
#include <filesystem>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/classify/project.h"
#include "core/classify/resolver.h"
#include "core/config/config.h"
#include "core/select/record.h"
#include "core/select/units.h"
#include "core/store/store.h"

namespace testmap::select {
namespace fs = std::filesystem;
namespace {

constexpr size_t kReasons = 3;  // enough to say why; --explain lists these

// importers[f]: the files that import f (a module, or a package on the way to one).
std::vector<std::vector<int>> importers_of(const classify::Project& p) {
  std::vector<std::vector<int>> out(p.files.size());
  for (size_t i = 0; i < p.files.size(); ++i) {
    std::set<int> targets;
    for (const auto& imp : p.files[i].outline.imports) {
      std::string mod = classify::absolute_module(p.files[i], imp.module, imp.level);
      std::vector<std::string> names;
      if (imp.has_name() && imp.name != "*")
        names.push_back(mod.empty() ? imp.name : mod + "." + imp.name);
      // `import a.b.c` runs a, a.b and a.b.c.
      for (std::string m = mod; !m.empty();) {
        names.push_back(m);
        size_t dot = m.rfind('.');
        m = dot == std::string::npos ? "" : m.substr(0, dot);
      }
      for (const auto& n : names)
        if (int f = p.module_file(n); f >= 0 && f != static_cast<int>(i)) targets.insert(f);
    }
    for (int t : targets) out[t].push_back(static_cast<int>(i));
  }
  return out;
}

struct RunView {
  // Files that import (directly or not) a file whose module-level code changed since the
  // run, each with the changed file that reaches it.
  std::unordered_map<std::string, std::string> reached;
  // Class bodies ("file::Class") related by inheritance to one that changed since the run
  // (its ancestors and descendants in the repository), each with the changed class.
  std::unordered_map<std::string, std::string> related;
  std::vector<std::string> conftests_changed;  // directories ("" for the root)
  std::string config_changed;
};

std::string dir_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

bool select_affected(const std::string& root, const std::vector<std::string>& ids, Selection* out,
                     std::string* error) {
  config::Config cfg = config::load_config(root);
  if (!cfg.unusable.empty()) {
    *error = cfg.unusable;
    return false;
  }
  store::Store s(store::default_path(cfg.root), store::Access::kRead);
  store::DepsSnapshot snap;
  if (s.missing()) {
    out->run_all = "no recording yet (record one with `pytest --testmap-deps`)";
    return true;
  }
  if (!s.ok() || !s.load_deps(&snap)) {
    out->run_all =
        fmt::format("the store {} cannot be read: {}", store::default_path(cfg.root), s.error());
    return true;
  }
  if (snap.tests.empty()) {
    out->run_all = "no recording yet (record one with `pytest --testmap-deps`)";
    return true;
  }
  classify::Project project = classify::load_project(cfg);
  classify::Resolver resolver(project);
  // Every class's repository ancestors, computed once when a class changed.
  std::vector<std::pair<std::string, std::vector<std::string>>> lineage;
  auto family_of = [&](const std::set<std::string>& changed) {
    std::unordered_map<std::string, std::string> out;
    if (changed.empty()) return out;
    if (lineage.empty())
      for (size_t i = 0; i < project.files.size(); ++i)
        for (size_t k = 0; k < project.files[i].outline.classes.size(); ++k) {
          const auto& c = project.files[i].outline.classes[k];
          if (c.in_function) continue;
          std::vector<std::string> up;
          for (auto [file, idx] :
               resolver.ancestry(static_cast<int>(i), static_cast<int>(k)).classes)
            up.push_back(class_key(project.files[file].rel,
                                   project.files[file].outline.classes[idx].qualname));
          lineage.emplace_back(class_key(project.files[i].rel, c.qualname), std::move(up));
        }
    for (const auto& key : changed) out.emplace(key, key);
    for (const auto& [key, up] : lineage)
      for (const auto& a : up)
        if (changed.count(a)) {
          out.emplace(key, a);                         // a descendant inherits the change
          for (const auto& b : up) out.emplace(b, a);  // an ancestor's users may meet the class
        }
    return out;
  };
  std::vector<std::string> conftests;
  for (const auto& f : project.files)
    if (f.is_conftest) conftests.push_back(f.rel);
  std::vector<std::string> watched_now = watched_files(cfg.root, conftests);
  std::map<std::string, uint64_t> watched_hash;
  for (const auto& rel : watched_now)
    watched_hash[rel] = content_hash((fs::path(cfg.root) / rel).string());
  std::vector<std::vector<int>> importers = importers_of(project);

  std::map<long long, RunView> views;
  for (const auto& [run_id, files] : snap.runs) {
    RunView& v = views[run_id];
    std::set<std::string> all(watched_now.begin(), watched_now.end());
    for (const auto& [rel, h] : files.watched) all.insert(rel);
    for (const auto& rel : all) {
      auto then = files.watched.find(rel);
      auto now = watched_hash.find(rel);
      uint64_t a = then == files.watched.end() ? 0 : then->second;
      uint64_t b = now == watched_hash.end() ? 0 : now->second;
      if (a == b) continue;
      std::string what = !a ? "was added" : !b ? "was removed" : "changed";
      if (fs::path(rel).filename() == "conftest.py")
        v.conftests_changed.push_back(dir_of(rel));
      else if (v.config_changed.empty())
        v.config_changed = fmt::format("{} {}", rel, what);
    }
    std::deque<int> queue;
    std::set<std::string> changed_classes;
    std::set<std::string> classes_now;
    for (const auto& f : project.files)
      for (const auto& c : f.outline.classes) {
        if (c.in_function) continue;
        std::string key = class_key(f.rel, c.qualname);
        classes_now.insert(key);
        auto then = files.modules.find(key);
        if (then == files.modules.end() || then->second != c.own_hash) changed_classes.insert(key);
      }
    for (const auto& [key, h] : files.modules)
      if (key.find("::") != std::string::npos && !classes_now.count(key))
        changed_classes.insert(key);  // removed: its subclasses' bases changed too
    for (const auto& [key, origin] : family_of(changed_classes)) v.related.emplace(key, origin);
    for (size_t i = 0; i < project.files.size(); ++i) {
      const auto& f = project.files[i];
      auto then = files.modules.find(f.rel);
      if (then != files.modules.end() && then->second == f.outline.module_hash) continue;
      v.reached.emplace(f.rel, f.rel);
      queue.push_back(static_cast<int>(i));
    }
    while (!queue.empty()) {
      int f = queue.front();
      queue.pop_front();
      const std::string& origin = v.reached[project.files[f].rel];
      for (int imp : importers[f])
        if (v.reached.emplace(project.files[imp].rel, origin).second) queue.push_back(imp);
    }
  }
  for (const auto& [run_id, v] : views)
    if (!v.config_changed.empty()) {
      out->run_all = v.config_changed + ": it can change every test";
      return true;
    }

  std::unordered_map<std::string, FileUnits> now;  // by file, as needed
  std::unordered_map<std::string, uint64_t> data_now;
  auto current = [&](const std::string& rel, const std::string& name, uint64_t* h) {
    if (name == kDataFile) {
      auto it = data_now.find(rel);
      if (it == data_now.end())
        it = data_now.emplace(rel, content_hash((fs::path(cfg.root) / rel).string())).first;
      *h = it->second;
      return *h != 0;
    }
    auto f = project.by_rel.find(rel);
    if (f == project.by_rel.end()) return false;
    if (name.empty()) {
      *h = project.files[f->second].outline.module_hash;
      return true;
    }
    auto it = now.find(rel);
    if (it == now.end()) it = now.emplace(rel, units_of(project.files[f->second].outline)).first;
    auto u = it->second.hash.find(name);
    if (u == it->second.hash.end()) return false;
    *h = u->second;
    return true;
  };
  for (const auto& id : ids) {
    std::vector<std::string> why;
    auto add = [&](std::string reason) {
      if (why.size() < kReasons) why.push_back(std::move(reason));
    };
    auto t = snap.tests.find(id);
    if (t == snap.tests.end()) {
      out->why[id] = {"new, or never recorded with --testmap-deps"};
      continue;
    }
    ++out->recorded;
    if (t->second.outcome == "failed" || t->second.outcome == "error")
      add(fmt::format("it {} when it was recorded",
                      t->second.outcome == "error" ? "errored" : "failed"));
    const RunView& v = views[t->second.run_id];
    std::string file = id.substr(0, id.find("::"));
    for (const auto& d : v.conftests_changed)
      if (d.empty() || file.starts_with(d + "/"))
        add(fmt::format("{} changed", d.empty() ? "conftest.py" : d + "/conftest.py"));
    std::set<std::string> files{file};
    for (const auto& u : t->second.units) {
      files.insert(u.file);
      if (auto r = v.related.find(class_key(u.file, u.name)); r != v.related.end())
        if (r->second != class_key(u.file, u.name))
          add(
              fmt::format("{} changed, and it is related by inheritance to {}::{}, which it "
                          "used",
                          r->second, u.file, u.name));
      uint64_t h = 0;
      if (!current(u.file, u.name, &h))
        add(u.name.empty() || u.name == kDataFile
                ? fmt::format("{} was removed", u.file)
                : fmt::format("{}::{} was removed", u.file, u.name));
      else if (h != u.hash)
        add(u.name.empty() ? fmt::format("the module-level code of {} changed", u.file)
            : u.name == kWholeFile || u.name == kDataFile
                ? fmt::format("{} changed", u.file)
                : fmt::format("{}::{} changed", u.file, u.name));
    }
    for (const auto& f : files) {
      auto r = v.reached.find(f);
      if (r == v.reached.end()) continue;
      add(r->second == f
              ? fmt::format("the module-level code of {} changed", f)
              : fmt::format("{} imports {}, whose module-level code changed", f, r->second));
    }
    if (!why.empty()) out->why[id] = std::move(why);
  }
  return true;
}

}  // namespace testmap::select
