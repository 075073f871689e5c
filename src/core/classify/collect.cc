// Test collection without importing anything, mirroring pytest's python plugin.
#include "core/classify/collect.h"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <set>

#include "core/util/glob.h"

namespace testmap::classify {
namespace {

// `vendored` is unittest.TestCase itself when the tree holds the standard library (the
// benchmark classifies it; a monorepo may vendor it): then it is a repo class, not external.
bool is_unittest_like(const Ancestry& a, std::pair<int, int> vendored) {
  if (vendored.first >= 0)
    for (const auto& c : a.classes)
      if (c == vendored) return true;
  for (const auto& e : a.externals) {
    std::string_view last = e;
    if (size_t dot = last.rfind('.'); dot != std::string_view::npos) last = last.substr(dot + 1);
    if (last.ends_with("TestCase") || e.starts_with("unittest.")) return true;
  }
  return false;
}

bool is_fixture_or_property(const scan::Function& f) {
  for (const auto& d : f.decorators) {
    const auto& c = d.callee;
    if (c.ends_with("fixture") || c == "property" || c.ends_with(".setter")) return true;
  }
  return false;
}

class Collector {
 public:
  Collector(const config::Config& cfg, const Project& p, Resolver& r) : cfg_(cfg), p_(p), r_(r) {
    if (Symbol s = r_.resolve_qualified("unittest.TestCase"); s.kind == Symbol::kClass)
      unittest_case_ = {s.file, s.index};
  }

  void module(int file, std::vector<TestItem>& out) {
    const auto& o = p_.files[file].outline;
    // Functions and classes interleave in source order, as pytest walks the module dict.
    struct Entry {
      int line;
      int func;
      std::string name;
      Symbol cls;
    };
    std::vector<Entry> entries;
    for (size_t i = 0; i < o.functions.size(); ++i) {
      const auto& f = o.functions[i];
      if (f.in_function || f.parent_class >= 0 || is_fixture_or_property(f)) continue;
      if (matches(cfg_.pytest.python_functions, f.name))
        entries.push_back({f.line, static_cast<int>(i), f.name, {}});
    }
    for (auto& [name, sym] : r_.class_bindings(file)) {
      int line = sym.file == file ? o.classes[sym.index].line : 0;
      entries.push_back({line, -1, name, sym});
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const Entry& a, const Entry& b) { return a.line < b.line; });
    for (const auto& e : entries) {
      if (e.func >= 0) {
        TestItem t;
        t.file = t.func_file = file;
        t.func = e.func;
        out.push_back(std::move(t));
      } else {
        test_class(file, e.name, e.cls.file, e.cls.index, {}, {}, out, 0);
      }
    }
  }

 private:
  std::pair<int, int> unittest_case_{-1, -1};

  bool matches(const std::vector<std::string>& patterns, const std::string& name) const {
    for (const auto& p : patterns)
      if (pytest_name_match(p, name, true)) return true;
    return false;
  }

  void test_class(int file, const std::string& name, int cfile, int cls,
                  std::vector<std::string> path, std::vector<std::pair<int, int>> outer,
                  std::vector<TestItem>& out, int depth) {
    if (depth > 20) return;
    const Ancestry& a = r_.ancestry(cfile, cls);
    for (const auto& [f, c] : a.classes) {  // `__test__ = False`, inherited like any attribute
      int flag = p_.files[f].outline.classes[c].dunder_test;
      if (flag == 0) return;
      if (flag == 1) break;
    }
    bool unittest = is_unittest_like(a, unittest_case_);
    if (!unittest && !matches(cfg_.pytest.python_classes, name)) {
      // A base testmap cannot follow may be a unittest.TestCase, which pytest collects
      // whatever its name: keep its tests (the classifier puts them in `unknown`) rather
      // than drop tests that would run.
      if (a.unresolved.empty()) return;
      unittest = true;
    }
    std::set<std::string> seen;
    bool has_init = false;
    std::vector<std::pair<int, int>> methods;
    for (const auto& [f, c] : a.classes) {
      const auto& o = p_.files[f].outline;
      for (size_t i = 0; i < o.functions.size(); ++i) {
        const auto& fn = o.functions[i];
        if (fn.parent_class != c) continue;
        if (fn.name == "__init__") has_init = true;
        if (!seen.insert(fn.name).second || is_fixture_or_property(fn)) continue;
        bool is_test =
            unittest ? fn.name.starts_with("test") : matches(cfg_.pytest.python_functions, fn.name);
        if (is_test) methods.emplace_back(f, static_cast<int>(i));
      }
    }
    if (has_init && !unittest) return;  // pytest refuses classes with __init__
    path.push_back(name);
    for (const auto& [f, i] : methods) {
      TestItem t;
      t.file = file;
      t.class_path = path;
      t.classes = a.classes;
      t.outer = outer;
      t.func_file = f;
      t.func = i;
      t.unittest = unittest;
      out.push_back(std::move(t));
    }
    if (unittest) return;
    // Nested test classes, collected within the outer one.
    outer.emplace_back(cfile, cls);
    const auto& o = p_.files[cfile].outline;
    for (size_t i = 0; i < o.classes.size(); ++i)
      if (o.classes[i].parent == cls)
        test_class(file, o.classes[i].name, cfile, static_cast<int>(i), path, outer, out,
                   depth + 1);
  }

  const config::Config& cfg_;
  const Project& p_;
  Resolver& r_;
};

}  // namespace

namespace {

std::string clean_path(std::string t) {
  while (t.starts_with("./")) t = t.substr(2);
  while (t.ends_with("/")) t.pop_back();
  return t == "." ? "" : t;
}

// pytest's fnmatch_ex: a pattern without '/' matches the last component, another one
// the end of the path.
bool fnmatch_ex(const std::string& pattern, const std::string& path) {
  std::string name = path.substr(path.rfind('/') + 1);
  if (pattern.find('/') == std::string::npos) return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  std::string p = pattern.starts_with("/") ? pattern : "*/" + pattern;
  return fnmatch(p.c_str(), ("/" + path).c_str(), 0) == 0;
}

// What pytest does not collect below the path it starts from (`from`: a testpath or a
// path argument, which pytest never ignores itself): paths named by --ignore or
// collect_ignore, paths matching --ignore-glob or collect_ignore_glob, and directories
// matching norecursedirs. Each directory on the way down is checked, as pytest checks
// it before going into it.
bool ignored(const config::PytestOptions& opts, const std::string& rel, const std::string& from) {
  auto ignores = [&](const std::string& path, bool is_dir) {
    for (const auto& i : opts.ignore) {
      std::string t = clean_path(i);
      if (!t.empty() && path == t) return true;
    }
    for (const auto& g : opts.ignore_glob)
      if (!g.empty() && fnmatch(clean_path(g).c_str(), path.c_str(), 0) == 0) return true;
    if (is_dir)
      for (const auto& pat : opts.norecursedirs)
        if (fnmatch_ex(pat, path)) return true;
    return false;
  };
  size_t start = from.empty() ? 0 : from.size() + 1;
  for (size_t slash = rel.find('/', start); slash != std::string::npos;
       slash = rel.find('/', slash + 1))
    if (ignores(rel.substr(0, slash), true)) return true;
  return rel != from && ignores(rel, false);
}

}  // namespace

bool is_test_file(const config::PytestOptions& opts, const std::string& rel) {
  std::string base = rel.substr(rel.rfind('/') + 1);
  if (base == "conftest.py") return false;
  bool name_ok = false;
  for (const auto& p : opts.python_files)
    if (pytest_name_match(p, base, false)) name_ok = true;
  if (!name_ok) return false;
  if (opts.testpaths.empty()) return !ignored(opts, rel, "");
  for (const auto& tp : opts.testpaths) {
    std::string t = clean_path(tp);
    if (t.empty() || rel == t || rel.starts_with(t + "/")) return !ignored(opts, rel, t);
    if (glob_match(t, rel)) return !ignored(opts, rel, "");
  }
  return false;
}

config::PytestOptions with_conftest_ignores(const config::PytestOptions& opts,
                                            const Project& project) {
  config::PytestOptions out = opts;
  for (const auto& f : project.files) {
    if (!f.is_conftest) continue;
    std::string dir = f.rel.substr(0, f.rel.rfind('/') == std::string::npos ? 0 : f.rel.rfind('/'));
    for (const auto& a : f.outline.assignments) {
      bool glob = a.target == "collect_ignore_glob";
      if (!a.scope.empty() || (!glob && a.target != "collect_ignore")) continue;
      for (const auto& v : a.values) {
        if (v.text.size() < 2 || (v.text.front() != '"' && v.text.front() != '\'')) continue;
        std::string entry = v.text.substr(1, v.text.size() - 2);
        std::string path =
            std::filesystem::path(dir.empty() ? entry : dir + "/" + entry).lexically_normal();
        (glob ? out.ignore_glob : out.ignore).push_back(path);
      }
    }
  }
  return out;
}

Diagnostics import_conflicts(const config::PytestOptions& opts, const Project& project,
                             const std::unordered_set<int>& test_files) {
  Diagnostics out;
  if (opts.import_mode == "importlib") return out;
  auto has_init = [&](const std::string& dir) {
    return project.by_rel.count(dir.empty() ? "__init__.py" : dir + "/__init__.py") > 0;
  };
  // pytest's module name: from the topmost directory with __init__.py, else the basename.
  std::map<std::string, std::string> first;  // module name -> the file that took it
  std::vector<int> files(test_files.begin(), test_files.end());
  std::sort(files.begin(), files.end());  // the first in path order takes the name
  for (int fi : files) {
    const SourceFile& f = project.files[fi];
    std::string rel = f.rel.substr(0, f.rel.size() - 3);  // without .py
    size_t start = rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1;
    while (start > 0) {
      std::string dir = rel.substr(0, start - 1);
      if (!has_init(dir)) break;
      size_t up = dir.rfind('/');
      start = up == std::string::npos ? 0 : up + 1;
    }
    std::string name = rel.substr(start);
    std::replace(name.begin(), name.end(), '/', '.');
    auto [it, fresh] = first.emplace(name, f.rel);
    if (!fresh)
      out.push_back({f.rel, 0, "",
                     fmt::format("pytest cannot import it beside {} (both are module '{}', and "
                                 "--import-mode={} puts one directory on sys.path for each): "
                                 "pytest reports an import file mismatch; add __init__.py files "
                                 "or use --import-mode=importlib",
                                 it->second, name, opts.import_mode)});
  }
  return out;
}

std::vector<TestItem> collect_tests(const config::Config& cfg, const Project& project,
                                    Resolver& resolver) {
  std::vector<TestItem> items;
  Collector c(cfg, project, resolver);
  for (size_t i = 0; i < project.files.size(); ++i)
    if (is_test_file(cfg.pytest, project.files[i].rel)) c.module(static_cast<int>(i), items);
  return items;
}

}  // namespace testmap::classify
