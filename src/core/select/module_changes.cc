// Following module-level changes to the code that can observe them. A statement other than
// a simple binding (an import, a call, a block) can have any effect at import time: every
// file that imports the module, directly or not, is reached. A simple binding (`NAME =
// value` at the top level) is followed by name: to the functions that mention it in the
// defining file, in the files that import it (and re-export it, by from-imports), and in
// the files that import the module and can read it as an attribute. When code that runs
// at import time reads the name (`B = A + 1`, a default, a decorator, a class body), the
// value has flowed into others: that file counts as changed as a whole.
#include "core/select/module_changes.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/scan/scanner.h"
#include "core/select/units.h"

namespace testmap::select {
namespace {

// One import statement of file `from` that runs file `to`.
struct Edge {
  enum Kind {
    kRuns,    // runs it only: a package above the module imported (`from a.b import c`: a)
    kModule,  // binds the module, read later as attributes (`import a.b`, `from a import b`)
    kNames,   // binds names from it (`from a import x`, `*`)
  };
  int from = -1;
  const scan::Import* imp = nullptr;
  Kind kind = kRuns;
};

// edges[f]: the import statements of other files that run f.
std::vector<std::vector<Edge>> import_edges(const classify::Project& p) {
  std::vector<std::vector<Edge>> out(p.files.size());
  for (size_t i = 0; i < p.files.size(); ++i)
    for (const auto& imp : p.files[i].outline.imports) {
      if (imp.type_checking) continue;  // never runs
      auto add = [&](int f, Edge::Kind kind) {
        if (f >= 0 && f != static_cast<int>(i)) out[f].push_back({static_cast<int>(i), &imp, kind});
      };
      std::string mod = classify::absolute_module(p.files[i], imp.module, imp.level);
      if (imp.has_name()) {
        add(p.module_file(mod), Edge::kNames);
        if (imp.name != "*")
          add(p.module_file(mod.empty() ? imp.name : mod + "." + imp.name), Edge::kModule);
      }
      // `import a.b.c` binds a, whose attributes reach a.b and a.b.c; with `as d`, or in
      // `from a.b import c`, the packages above only run.
      bool binds_chain = !imp.has_name() && imp.asname.empty();
      for (std::string m = mod; !m.empty();) {
        bool self = m == mod && !imp.has_name();
        if (!(imp.has_name() && m == mod))
          add(p.module_file(m), binds_chain || self ? Edge::kModule : Edge::kRuns);
        size_t dot = m.rfind('.');
        m = dot == std::string::npos ? "" : m.substr(0, dot);
      }
    }
  return out;
}

// The name an import binds in its file: `import a.b` binds a, `import a.b as c` c.
std::string bound_name(const scan::Import& imp) {
  if (!imp.asname.empty()) return imp.asname;
  if (imp.has_name()) return imp.name;
  return imp.module.substr(0, imp.module.find('.'));
}

bool read_at_import(const std::vector<std::string>& read, const std::set<std::string>& names) {
  for (const auto& n : names)
    if (std::binary_search(read.begin(), read.end(), n)) return true;
  return false;
}

std::string listed(const std::set<std::string>& names) {
  std::string out;
  size_t k = 0;
  for (const auto& n : names) {
    if (k == 3) return out + ", ...";
    out += (k++ ? ", " : "") + n;
  }
  return out;
}

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Whether `text` names any of `names` as a whole word (in code, a comment or a string:
// more is safe).
bool mentions(std::string_view text, const std::set<std::string>& names) {
  for (const auto& n : names)
    for (size_t at = text.find(n); at != std::string_view::npos; at = text.find(n, at + 1)) {
      size_t end = at + n.size();
      if ((at == 0 || !ident_char(text[at - 1])) && (end == text.size() || !ident_char(text[end])))
        return true;
    }
  return false;
}

// Whether `text` can read a module's attributes by a name it computes: `getattr(consts,
// name)`, `vars(consts)`, `consts.__dict__` for the module bound as `alias`, or, where
// the names are the file's own globals (`alias` empty: defined or imported there),
// `globals()`. The by-name rule cannot see which
// name such code reads, so it may read any.
bool reads_by_computed_name(std::string_view text, const std::string& alias) {
  if (alias.empty()) return text.find("globals()") != std::string_view::npos;
  auto followed_by_alias = [&](size_t at) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
    return text.substr(at, alias.size()) == alias &&
           (at + alias.size() == text.size() || !ident_char(text[at + alias.size()]));
  };
  for (std::string_view call : {"getattr(", "hasattr(", "vars("})
    for (size_t at = text.find(call); at != std::string_view::npos; at = text.find(call, at + 1))
      if ((at == 0 || !ident_char(text[at - 1])) && followed_by_alias(at + call.size()))
        return true;
  std::string dict = alias + ".__dict__";
  for (size_t at = text.find(dict); at != std::string_view::npos; at = text.find(dict, at + 1))
    if (at == 0 || !ident_char(text[at - 1])) return true;
  return false;
}

class Follower {
 public:
  Follower(const classify::Project& p, const store::RunFiles& run, ModuleChanges& out)
      : p_(p), run_(run), out_(out), edges_(import_edges(p)) {}

  void run() {
    for (size_t i = 0; i < p_.files.size(); ++i) visit(static_cast<int>(i));
    import_time_units();
    drain();
  }

  // Code that ran at import (outside every test) and changed since: what it made (a
  // class's methods, a registry, a decorated function) is in its module's state, which
  // every importer sees.
  void import_time_units() {
    std::map<int, FileUnits> units;
    for (auto it = run_.modules.lower_bound(kImportPrefix);
         it != run_.modules.end() && it->first.starts_with(kImportPrefix); ++it) {
      std::string key = it->first.substr(std::string_view(kImportPrefix).size());
      size_t sep = key.find("::");
      if (sep == std::string::npos) continue;
      auto f = p_.by_rel.find(key.substr(0, sep));
      if (f == p_.by_rel.end()) continue;  // the file is gone: its importers changed too
      std::string name = key.substr(sep + 2);
      auto u = units.find(f->second);
      if (u == units.end())
        u = units.emplace(f->second, units_of(p_.files[f->second].outline)).first;
      auto h = u->second.hash.find(name);
      if (h != u->second.hash.end() && h->second == it->second) continue;
      // A hook of a plugin module (not a conftest, whose tests run when it changes): pytest
      // ran it for the whole session (an ini default, a configure, a collection hook), and
      // no import of the plugin leads to the tests it reaches.
      std::string_view last = std::string_view(name).substr(name.rfind('.') + 1);
      if (last.starts_with("pytest_") && !p_.files[f->second].is_conftest) {
        if (out_.everything.empty())
          out_.everything =
              fmt::format("{}::{}, a pytest hook that ran outside every test, changed",
                          p_.files[f->second].rel, name);
        continue;
      }
      reach(f->second,
            fmt::format("{}::{}, which ran when modules were imported, changed",
                        p_.files[f->second].rel, name),
            p_.files[f->second].rel);
    }
  }

  // Follows the names of changed classes to the code that names them, as a changed
  // binding is, but past import-time reads: a class statement names its bases (the
  // inheritance rule covers those), and a class body that reads one (`owner =
  // relationship(User)`) was added to the names by the caller.
  void follow_classes(int file, const std::set<std::string>& names) {
    classes_mode_ = true;
    follow(file, names);
    classes_mode_ = false;
    drain();
  }

  // Reaches every file that imports one reached, directly or not.
  void drain() {
    while (!broad_.empty()) {
      auto [file, origin] = std::move(broad_.front());
      broad_.pop_front();
      for (const Edge& e : edges_[file]) {
        const auto& importer = p_.files[e.from];
        std::string why =
            fmt::format("{} imports {}, whose module-level code changed", importer.rel, origin);
        // An import in a function runs the module when that function runs: its callers
        // can meet the change, not every user of the importing file.
        if (e.imp->in_function) {
          if (const scan::Function* fn = enclosing(importer.outline, e.imp->line)) {
            out_.units.emplace(unit_key(importer.rel, fn->qualname), why);
            out_.units.emplace(unit_key(importer.rel, kWholeFile), why);
            continue;
          }
        }
        reach(e.from, why, origin);
      }
    }
  }

  // The innermost function whose lines hold `line`, or null.
  static const scan::Function* enclosing(const scan::Outline& o, int line) {
    const scan::Function* best = nullptr;
    for (const auto& f : o.functions)
      if (f.line <= line && line <= f.end_line && (!best || f.line >= best->line)) best = &f;
    return best;
  }

 private:
  void visit(int fi) {
    const auto& f = p_.files[fi];
    auto then = run_.modules.find(f.rel);
    if (then == run_.modules.end() || then->second != f.outline.module_hash) {
      reach(fi, fmt::format("the module-level code of {} changed", f.rel), f.rel);
      return;
    }
    std::set<std::string> changed;
    std::string prefix = binding_key(f.rel, "");
    for (auto it = run_.modules.lower_bound(prefix);
         it != run_.modules.end() && it->first.starts_with(prefix); ++it)
      changed.insert(it->first.substr(prefix.size()));  // removed, unless found below
    for (const auto& [name, h] : f.outline.bindings) {
      auto b = run_.modules.find(binding_key(f.rel, name));
      if (b != run_.modules.end() && b->second == h)
        changed.erase(name);
      else
        changed.insert(name);
    }
    if (changed.empty()) return;
    if (changed.count("__all__") || !read_by_classes_only(fi, changed)) {
      reach(fi, fmt::format("the module-level code of {} changed", f.rel), f.rel);
      return;
    }
    follow(fi, changed);
  }

  void follow(int origin, const std::set<std::string>& changed) {
    const std::string& origin_rel = p_.files[origin].rel;
    mark(origin, changed, fmt::format("{} in {} changed", listed(changed), origin_rel));
    std::deque<std::pair<int, std::set<std::string>>> queue{{origin, changed}};
    std::set<std::pair<int, std::string>> done;
    while (!queue.empty()) {
      auto [holder, names] = std::move(queue.front());
      queue.pop_front();
      const std::string& holder_rel = p_.files[holder].rel;
      for (const Edge& e : edges_[holder]) {
        if (e.kind == Edge::kRuns) continue;
        const auto& importer = p_.files[e.from];
        std::set<std::string> held;  // the importer's names for the changed values
        if (e.kind == Edge::kNames && e.imp->name == "*")
          held = names;
        else if (e.kind == Edge::kNames && names.count(e.imp->name))
          held.insert(bound_name(*e.imp));
        if (e.kind == Edge::kNames && held.empty()) continue;
        std::string why =
            e.kind == Edge::kModule ? fmt::format("{} imports {}, whose {} changed", importer.rel,
                                                  holder_rel, listed(names))
            : holder == origin
                ? fmt::format("{} imports {} from {}, where it changed", importer.rel, listed(held),
                              holder_rel)
                : fmt::format("{} imports {} from {}, which has it from {}, where it changed",
                              importer.rel, listed(held), holder_rel, origin_rel);
        // Import-time code names it (`B = A + 1`, `X = mod.A`, as an attribute of
        // whatever): the value may have flowed into others.
        if (!e.imp->in_function && !classes_mode_ &&
            !read_by_classes_only(e.from, e.kind == Edge::kNames ? held : names, why)) {
          reach(e.from, why, origin_rel);
          continue;
        }
        mark(e.from, e.kind == Edge::kNames ? held : names, why,
             e.kind == Edge::kModule ? bound_name(*e.imp) : "");
        if (e.kind != Edge::kNames || e.imp->in_function) continue;
        std::set<std::string> fresh;  // re-exported: `from pkg import A` after pkg's import
        for (const auto& n : held)
          if (done.emplace(e.from, n).second) fresh.insert(n);
        if (!fresh.empty()) queue.emplace_back(e.from, std::move(fresh));
      }
    }
  }

  // Whether import-time code of `file` reads `names` in class bodies only, or not at all;
  // each such class counts as changed for the tests that met it. Module-level code that
  // reads one, or a recording that does not say which classes tests met, is false.
  bool read_by_classes_only(int file, const std::set<std::string>& names,
                            const std::string& why = "") {
    const auto& f = p_.files[file];
    if (read_at_import(f.outline.import_time_names, names)) return false;
    bool receivers = run_.modules.count(kReceiversRecorded) > 0;
    for (const auto& c : f.outline.classes) {
      if (c.in_function || !read_at_import(c.import_time_names, names)) continue;
      if (!receivers) return false;
      out_.units.emplace(unit_key(f.rel, c.qualname),
                         why.empty() ? fmt::format("{} in {} changed, and the body of {} reads it",
                                                   listed(names), f.rel, c.qualname)
                                     : why);
    }
    return true;
  }

  // The units of `file` that can read `names`: the functions whose text names one, and
  // the code that cannot be named. Its module-level code does not name them (that would
  // be read_at_import).
  // `module_alias`: the importer's name for the module holding them (`consts`), whose
  // attributes code may read by a computed name; "" where they are the file's globals.
  void mark(int file, const std::set<std::string>& names, const std::string& why,
            const std::string& module_alias = "") {
    const auto& f = p_.files[file];
    out_.units.emplace(unit_key(f.rel, kWholeFile), why);
    std::string text;
    if (!scan::read_file(f.abs, &text)) {
      reach(file, why, f.rel);  // unreadable now: its tests run
      return;
    }
    std::vector<size_t> line_start{0};
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_start.push_back(i + 1);
    auto lines = [&](int first, int last) {
      size_t a = line_start[std::clamp<size_t>(first - 1, 0, line_start.size() - 1)];
      size_t b = static_cast<size_t>(last) < line_start.size() ? line_start[last] : text.size();
      return std::string_view(text).substr(a, b > a ? b - a : 0);
    };
    for (const auto& fn : f.outline.functions) {
      std::string_view body = lines(fn.line, fn.end_line);
      if (mentions(body, names) || reads_by_computed_name(body, module_alias))
        out_.units.emplace(unit_key(f.rel, fn.qualname), why);
    }
  }

  void reach(int file, std::string why, const std::string& origin) {
    if (!broad_done_.insert(file).second) return;
    out_.files.insert_or_assign(p_.files[file].rel, std::move(why));
    broad_.emplace_back(file, origin);
  }

  const classify::Project& p_;
  const store::RunFiles& run_;
  ModuleChanges& out_;
  std::vector<std::vector<Edge>> edges_;
  std::deque<std::pair<int, std::string>> broad_;
  std::set<int> broad_done_;
  bool classes_mode_ = false;
};

}  // namespace

ModuleChanges module_changes(const classify::Project& project, const store::RunFiles& run,
                             const std::set<std::string>& changed_classes) {
  ModuleChanges out;
  Follower follower(project, run, out);
  follower.run();
  if (run.modules.count(kReceiversRecorded)) return out;  // the recording says who met it
  std::map<int, std::set<std::string>> by_file;           // the top-level names of changed classes
  std::set<std::string> all;
  for (const auto& key : changed_classes) {
    size_t sep = key.find("::");
    auto f = project.by_rel.find(key.substr(0, sep));
    if (sep == std::string::npos || f == project.by_rel.end()) continue;  // removed with its file
    std::string name = key.substr(sep + 2);
    name = name.substr(0, name.find('.'));
    by_file[f->second].insert(name);
    all.insert(name);
  }
  // A class whose body reads one of them is met through it: followed too (by bare name,
  // across files: more is safe).
  for (bool grew = !all.empty(); grew;) {
    grew = false;
    for (size_t i = 0; i < project.files.size(); ++i)
      for (const auto& c : project.files[i].outline.classes) {
        if (c.in_function || c.qualname.find('.') != std::string::npos || all.count(c.qualname))
          continue;
        if (std::any_of(c.import_time_names.begin(), c.import_time_names.end(),
                        [&](const std::string& n) { return all.count(n) > 0; })) {
          by_file[static_cast<int>(i)].insert(c.qualname);
          all.insert(c.qualname);
          grew = true;
        }
      }
  }
  for (const auto& [file, names] : by_file) follower.follow_classes(file, names);
  return out;
}

}  // namespace testmap::select
