// Comparing each test's recorded units with the working tree; module-level changes are
// followed to their readers by module_changes.cc.
#include "core/select/affected.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "core/classify/project.h"
#include "core/classify/resolver.h"
#include "core/config/config.h"
#include "core/select/base_state.h"
#include "core/select/module_changes.h"
#include "core/select/prebuilt.h"
#include "core/select/record.h"
#include "core/select/units.h"
#include "core/store/store.h"

namespace testmap::select {
namespace fs = std::filesystem;
namespace {

constexpr size_t kReasons = 3;  // enough to say why; --explain lists these

struct RunView {
  ModuleChanges modules;
  // Class bodies ("file::Class") related by inheritance to one that changed since the run
  // (its ancestors and descendants in the repository), each with the changed class.
  std::unordered_map<std::string, std::string> related;
  std::vector<std::string> conftests_changed;  // directories ("" for the root)
  std::string config_changed;                  // or another change that reaches every test
};

std::string dir_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

bool select_affected(const std::string& root, const std::vector<std::string>& ids,
                     const std::string& base, Selection* out, std::string* error) {
  config::Config cfg = config::load_config(root);
  // A run-all-when that cannot be read would watch nothing: select nothing from it.
  *error = config::refusal(cfg, "tool.testmap.affected");
  if (!error->empty()) return false;
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
  auto family_of = [&](const std::set<std::string>& changed, bool receivers_recorded) {
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
          out.emplace(key, a);  // a descendant inherits the change
          // An ancestor's users may have met the class through the ancestor's methods,
          // unless the recording says which classes they met.
          if (!receivers_recorded)
            for (const auto& b : up) out.emplace(b, a);
        }
    return out;
  };
  std::vector<std::string> conftests;
  for (const auto& f : project.files)
    if (f.is_conftest) conftests.push_back(f.rel);
  std::vector<std::string> watched_now = watched_files(cfg.root, conftests, cfg.run_all_when);
  std::map<std::string, uint64_t> watched_hash;
  for (const auto& rel : watched_now)
    watched_hash[rel] = content_hash((fs::path(cfg.root) / rel).string());

  // What changed since one recorded run (or since --base), as the rules need it.
  auto build_view = [&](const store::RunFiles& files) {
    RunView v;
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
      if (key.find("::") != std::string::npos && !key.starts_with(kImportPrefix) &&
          !classes_now.count(key))
        changed_classes.insert(key);  // removed: its subclasses' bases changed too
    std::set<std::string> related;
    for (const auto& [key, origin] :
         family_of(changed_classes, files.modules.count(kReceiversRecorded) > 0)) {
      v.related.emplace(key, origin);
      related.insert(key);
    }
    v.modules = module_changes(project, files, related);
    if (v.config_changed.empty()) v.config_changed = v.modules.everything;
    return v;
  };
  std::map<long long, RunView> views;
  for (const auto& [run_id, files] : snap.runs) views.emplace(run_id, build_view(files));
  for (const auto& [run_id, v] : views)
    if (!v.config_changed.empty()) {
      out->run_all = v.config_changed + ": it can change every test";
      return true;
    }
  // --base REF: the changes since REF count too, whatever the recording saw.
  BaseState since;
  RunView base_view;
  if (!base.empty()) {
    since = base_state(project, base, watched_hash);
    if (!since.run_all.empty()) {
      out->run_all = since.run_all;
      return true;
    }
    base_view = build_view(since.files);
    if (!base_view.config_changed.empty()) {
      out->run_all =
          fmt::format("{} since {}: it can change every test", base_view.config_changed, base);
      return true;
    }
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
  Prebuilt prebuilt(project, resolver, snap, [&](const store::TestDeps::Unit& u) {
    uint64_t h = 0;
    return !current(u.file, u.name, &h) || h != u.hash;
  });
  for (const auto& id : ids) {
    std::vector<std::string> why;
    auto add = [&](std::string reason) {
      if (why.size() < kReasons && std::find(why.begin(), why.end(), reason) == why.end())
        why.push_back(std::move(reason));
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
    std::string file = id.substr(0, id.find("::"));
    std::set<std::string> files{file};
    for (const auto& u : t->second.units) files.insert(u.file);
    // Its own test file changed, anywhere: it runs (an edit to a test is checked at once).
    auto own_changed = [&](const store::RunFiles& then) {
      auto h = then.modules.find(whole_key(file));
      if (h == then.modules.end()) return false;  // recorded before files had a digest
      uint64_t now_hash = 0;  // the whole-file unit's hash, computed once per file
      return !current(file, kWholeFile, &now_hash) || h->second != now_hash;
    };
    if (own_changed(snap.runs[t->second.run_id])) add(fmt::format("its own file {} changed", file));
    if (!base.empty() && own_changed(since.files))
      add(fmt::format("its own file {} changed since {}", file, base));
    // The rules that compare states, against the test's run and against --base.
    auto by_view = [&](const RunView& v, const std::string& since_what) {
      for (const auto& d : v.conftests_changed)
        if (d.empty() || file.starts_with(d + "/"))
          add(fmt::format("{} changed{}", d.empty() ? "conftest.py" : d + "/conftest.py",
                          since_what));
      for (const auto& u : t->second.units) {
        if (auto r = v.related.find(class_key(u.file, u.name)); r != v.related.end())
          if (r->second != class_key(u.file, u.name))
            add(fmt::format(
                "{} changed{}, and it is related by inheritance to {}::{}, which it used",
                r->second, since_what, u.file, u.name));
        if (auto r = v.modules.units.find(unit_key(u.file, u.name)); r != v.modules.units.end())
          add(r->second + since_what);
      }
      for (const auto& f : files)
        if (auto r = v.modules.files.find(f); r != v.modules.files.end())
          add(r->second + since_what);
    };
    by_view(views[t->second.run_id], "");
    for (const auto& u : t->second.units) {
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
    if (std::string w = prebuilt.why(t->second); !w.empty()) add(std::move(w));
    if (!base.empty()) {
      by_view(base_view, " since " + base);
      for (const auto& u : t->second.units) {
        if (auto r = since.units.find(unit_key(u.file, u.name)); r != since.units.end())
          add(r->second);
        for (const auto& d : since.changed_dirs)
          if (u.file.starts_with(d + "/")) add(fmt::format("{} changed since {}", d, base));
      }
    }
    if (!why.empty()) out->why[id] = std::move(why);
  }
  return true;
}

}  // namespace testmap::select
