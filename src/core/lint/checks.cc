// The code rules. Names are matched as written and as imported (`silo_mode` after `from
// app.silo import assume_test_silo_mode as silo_mode`), so an alias hides nothing.
#include "core/lint/checks.h"

#include <fmt/format.h>

#include <set>

#include "core/util/glob.h"

namespace testmap::lint {

namespace {

using classify::Project;
using classify::Resolver;

bool any_glob(const std::vector<std::string>& globs, const std::string& rel) {
  for (const auto& g : globs)
    if (glob_match(g, rel)) return true;
  return false;
}

// A rule without paths is for test code; with paths, for the files they match.
bool applies(const std::vector<std::string>& paths, const Scope& scope, int file,
             const std::string& rel) {
  return paths.empty() ? scope.test[file] != 0 : any_glob(paths, rel);
}

// The name as written and as its first segment was imported, when that differs.
struct Names {
  std::string written, qualified;
  bool match(std::string_view pattern) const {
    return name_matches(pattern, written) ||
           (qualified != written && name_matches(pattern, qualified));
  }
};

Names names_of(Resolver& resolver, int file, const std::string& name) {
  return {name, resolver.qualify(file, name)};
}

std::string class_name(const Project& p, int file, int cls) {
  const auto& f = p.files[file];
  const auto& q = f.outline.classes[cls].qualname;
  return f.module.empty() ? q : f.module + "." + q;
}

std::string minutes(double seconds) {
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  return fmt::format("{:.1f} min", seconds / 60);
}

}  // namespace

bool name_matches(std::string_view pattern, std::string_view name) {
  if (glob_match(pattern, name)) return true;
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1))
    if (glob_match(pattern, name.substr(dot + 1))) return true;
  return false;
}

std::vector<std::string> rule_globs(const config::LintRules& r, bool calls_only) {
  std::vector<std::string> globs;
  for (const auto& b : r.banned_calls) globs.insert(globs.end(), b.paths.begin(), b.paths.end());
  for (const auto& b : r.forbid_inside) globs.insert(globs.end(), b.paths.begin(), b.paths.end());
  if (calls_only) return globs;
  for (const auto& b : r.costly_bases) globs.insert(globs.end(), b.paths.begin(), b.paths.end());
  for (const auto& b : r.forbid_imports) globs.push_back(b.path);
  for (const auto& b : r.base_classes) globs.push_back(b.path);
  return globs;
}

Scope scope_of(const config::Config& cfg, const Project& project,
               const std::vector<std::string>& only) {
  Scope s;
  s.lint.assign(project.files.size(), only.empty());
  s.test.assign(project.files.size(), 0);
  std::vector<std::string> globs = rule_globs(cfg.lint, false);
  for (size_t i = 0; i < project.files.size(); ++i) {
    const auto& f = project.files[i];
    s.test[i] = f.is_conftest || classify::is_test_file(cfg.pytest, f.rel);
    for (const auto& o : only)
      if (o.empty() || o == "." || f.rel == o || f.rel.starts_with(o + "/")) s.lint[i] = 1;
    if (s.lint[i] && !s.test[i]) s.lint[i] = any_glob(globs, f.rel);
  }
  return s;
}

std::vector<Finding> check_code(const config::Config& cfg, const Project& project,
                                Resolver& resolver, const std::vector<classify::TestItem>& tests,
                                const Scope& scope, const std::map<std::string, double>* seconds) {
  const auto& rules = cfg.lint;
  std::vector<Finding> out;
  auto add = [&](const std::string& rel, int line, int col, std::string_view rule,
                 std::string message) {
    out.push_back({rel, line, col + 1, std::string(code_of(rule)), std::move(message)});
  };

  for (size_t fi = 0; fi < project.files.size(); ++fi) {
    if (!scope.lint[fi]) continue;
    const auto& f = project.files[fi];
    const auto& o = f.outline;
    int file = static_cast<int>(fi);
    if (!o.ok())  // every file in scope is one some rule reads
      out.push_back(
          {f.rel, std::max(1, o.error_line), 1, "TM001",
           fmt::format("cannot parse: {} (rules checked only what comes before)", o.error)});

    std::vector<const config::BannedCall*> banned;
    for (const auto& b : rules.banned_calls)
      if (applies(b.paths, scope, file, f.rel)) banned.push_back(&b);
    std::vector<const config::ForbidInside*> inside;
    for (const auto& r : rules.forbid_inside)
      if (applies(r.paths, scope, file, f.rel)) inside.push_back(&r);
    if (!banned.empty() || !inside.empty()) {
      // Each context manager's names once per file, not once per call inside it.
      std::vector<Names> with_names;
      for (const auto& w : o.withs) with_names.push_back(names_of(resolver, file, w.name));
      for (const auto& site : o.call_sites) {
        Names call = names_of(resolver, file, site.name);
        for (const auto* b : banned)
          if (call.match(b->pattern)) {
            add(f.rel, site.line, site.col, "banned-calls",
                fmt::format("{}(): {}", site.name, b->message));
            break;
          }
        for (const auto* r : inside) {
          int cm = -1;
          for (int w : site.withs)
            if (!with_names[w].written.empty() && with_names[w].match(r->with)) cm = w;
          if (cm < 0) continue;
          bool hit = false;
          for (const auto& c : r->calls) hit = hit || call.match(c);
          if (!hit) continue;
          // The context manager as imported, when an alias hides it.
          const Names& n = with_names[cm];
          std::string where = n.qualified == n.written
                                  ? fmt::format("line {}", o.withs[cm].line)
                                  : fmt::format("{}, line {}", n.qualified, o.withs[cm].line);
          add(f.rel, site.line, site.col, "forbid-inside",
              fmt::format("{}() inside `with {}()` ({}): {}", site.name, n.written, where,
                          r->message.empty() ? "not allowed there" : r->message));
        }
      }
    }

    for (const auto& r : rules.forbid_imports) {
      if (!glob_match(r.path, f.rel)) continue;
      for (const auto& imp : o.imports) {
        std::string module =
            imp.level > 0 ? classify::absolute_module(f, imp.module, imp.level) : imp.module;
        std::string full =
            imp.has_name() ? (module.empty() ? imp.name : module + "." + imp.name) : module;
        // `from a.b import c` imports a.b too: a pattern for the module forbids it.
        std::vector<std::string> candidates{full};
        for (size_t dot = full.rfind('.'); dot != std::string::npos && dot > 0;
             dot = full.rfind('.', dot - 1))
          candidates.push_back(full.substr(0, dot));
        std::string hit;
        for (const auto& pattern : r.imports)
          for (const auto& c : candidates)
            if (hit.empty() && glob_match(pattern, c)) hit = pattern;
        if (hit.empty()) continue;
        add(f.rel, imp.line, imp.col, "forbid-imports",
            r.message.empty() ? fmt::format("import of {} is not allowed in {}{}", full, r.path,
                                            hit == full ? "" : fmt::format(" (rule {})", hit))
                              : fmt::format("import of {}: {}", full, r.message));
      }
    }
  }

  if (rules.base_classes.empty() && rules.costly_bases.empty()) return out;
  // Each test class once, with its tests' ids (for what they cost).
  std::map<std::pair<int, int>, std::vector<std::string>> classes;
  for (const auto& t : tests) {
    if (t.classes.empty() || !scope.lint[t.file]) continue;
    std::string cls;
    for (const auto& c : t.class_path) cls += "::" + c;
    const auto& fn = project.files[t.func_file].outline.functions[t.func];
    classes[t.classes.front()].push_back(project.files[t.file].rel + cls + "::" + fn.name);
  }
  for (const auto& [key, ids] : classes) {
    auto [file, cls] = key;
    const auto& f = project.files[file];
    const auto& c = f.outline.classes[cls];
    const classify::Ancestry& a = resolver.ancestry(file, cls);
    std::vector<std::string> ancestors;  // qualified, nearest first, without itself
    for (size_t i = 1; i < a.classes.size(); ++i)
      ancestors.push_back(class_name(project, a.classes[i].first, a.classes[i].second));
    ancestors.insert(ancestors.end(), a.externals.begin(), a.externals.end());

    for (const auto& r : rules.base_classes) {
      if (!glob_match(r.path, f.rel)) continue;
      bool ok = false;
      for (const auto& b : r.bases)
        for (const auto& n : ancestors) ok = ok || name_matches(b, n);
      if (ok) continue;
      add(f.rel, c.line, c.col, "base-classes",
          r.message.empty() ? fmt::format("{} derives from none of {} (required in {})", c.qualname,
                                          fmt::join(r.bases, ", "), r.path)
                            : fmt::format("{}: {}", c.qualname, r.message));
    }

    for (const auto& r : rules.costly_bases) {
      if (!applies(r.paths, scope, file, f.rel)) continue;
      // The repo classes up to the costly base: their methods are what its tests run.
      size_t upto = a.classes.size();
      bool costly = false, cheap = false;
      auto is_cheap = [&](const std::string& n) {
        for (const auto& i : r.instead)
          if (name_matches(i, n)) return true;
        return false;
      };
      for (size_t i = 1; i < a.classes.size() && !costly && !cheap; ++i) {
        std::string n = class_name(project, a.classes[i].first, a.classes[i].second);
        if (name_matches(r.base, n))
          upto = i, costly = true;
        else
          cheap = is_cheap(n);
      }
      for (const auto& e : a.externals)
        if (!costly && !cheap) {
          costly = name_matches(r.base, e);
          cheap = !costly && is_cheap(e);
        }
      if (!costly) continue;
      std::string reason;
      for (size_t i = 0; i < upto && reason.empty(); ++i) {
        auto [cf, ci] = a.classes[i];
        const auto& outline = project.files[cf].outline;
        std::string prefix = outline.classes[ci].qualname + ".";
        for (const auto& fn : outline.functions) {
          if (!fn.qualname.starts_with(prefix)) continue;
          for (const auto& call : fn.calls) {
            Names n = names_of(resolver, cf, call);
            for (const auto& want : r.reasons)
              if (reason.empty() && n.match(want)) reason = call;
          }
        }
      }
      if (!reason.empty()) continue;
      std::string cost;
      if (seconds) {
        double total = 0;
        size_t known = 0;
        for (const auto& id : ids)
          if (auto it = seconds->find(id); it != seconds->end()) total += it->second, ++known;
        if (known)
          cost =
              fmt::format(" ({} tests, {} in the last recorded run)", ids.size(), minutes(total));
      }
      std::string use =
          r.instead.empty() ? "" : fmt::format(": use {}", fmt::join(r.instead, " or "));
      add(f.rel, c.line, c.col, "costly-bases",
          r.message.empty()
              ? fmt::format("{} derives from {}, but none of its tests calls {}{}{}", c.qualname,
                            r.base, fmt::join(r.reasons, ", "), use, cost)
              : fmt::format("{} derives from {}: {}{}", c.qualname, r.base, r.message, cost));
    }
  }
  return out;
}

}  // namespace testmap::lint
