// The classification rules, applied to each collected test with everything it
// inherits: class ancestry, markers from every level, the fixture closure.
#include "core/classify/classifier.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/classify/collect.h"
#include "core/classify/fixtures.h"
#include "core/classify/infer.h"
#include "core/classify/merge.h"
#include "core/classify/resolver.h"
#include "core/classify/tiers.h"
#include "core/config/rootdir.h"
#include "core/util/glob.h"

namespace testmap::classify {
namespace {

const std::set<std::string> kSetupMethods = {
    "setUp", "setUpClass", "asyncSetUp", "setup_method", "setup_class", "setup", "setUpTestData"};

bool call_matches(const std::string& pattern, const std::string& call) {
  return call == pattern || (call.size() > pattern.size() && call.ends_with(pattern) &&
                             call[call.size() - pattern.size() - 1] == '.');
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') return s.substr(1, s.size() - 2);
  return "";
}

struct Marker {
  std::string name;
  const scan::Reduced* deco;
  std::string file;
  int line;
};

// The rules of one service, with base classes resolved to identities once.
struct BaseRule {
  Symbol symbol;  // a class in the repository, or an external name
  std::string written;
};

struct ServiceRules {
  const config::Service* service;
  std::vector<BaseRule> bases;
};

class Classifier {
 public:
  Classifier(const config::Config& cfg, const Project& p, unsigned threads)
      : cfg_(cfg), p_(p), threads_(threads), resolver_(p), fixtures_(cfg.pytest, p, resolver_) {
    for (const auto& s : cfg.services) {
      ServiceRules rules{&s, {}};
      for (const auto& b : s.base_classes) {
        Symbol sym = resolver_.resolve_qualified(b);
        if (sym.kind != Symbol::kClass) sym = Symbol{Symbol::kExternal, -1, -1, b};
        rules.bases.push_back({sym, b});
      }
      rules_.push_back(std::move(rules));
      for (const auto* names : {&s.markers, &s.fixtures})
        configured_.insert(names->begin(), names->end());
      for (const auto& b : s.base_classes) configured_.insert(b.substr(b.rfind('.') + 1));
      for (const auto& rule : s.rules)
        for (const auto* names : {&rule.markers, &rule.fixtures})
          configured_.insert(names->begin(), names->end());
    }
    for (const auto* names : {&cfg.dynamic.markers, &cfg.dynamic.fixtures})
      configured_.insert(names->begin(), names->end());
  }

  Classification run() {
    Classification out;
    out.root = cfg_.root;
    out.diagnostics = cfg_.diagnostics;
    for (const auto& d : p_.diagnostics) out.diagnostics.push_back(d);
    std::vector<TestItem> items = collect_tests(cfg_, p_, resolver_);
    classify_items(items, out.tests);
    // A base that cannot be followed is a problem in the tree, like a file that does not
    // parse: said once per place on stderr, and a failure under --strict.
    std::set<std::tuple<std::string, int, std::string>> said;
    for (const auto& t : out.tests)
      for (const auto& r : t.reasons)
        if (r.rule == std::string_view("unresolved") &&
            said.emplace(r.file, r.line, r.detail).second)
          out.diagnostics.push_back({r.file, r.line, "", r.detail});
    std::unordered_set<int> files_with_tests;
    for (const auto& item : items) files_with_tests.insert(item.file);
    // A test file that does not parse and yielded no test still counts, as unknown.
    for (size_t i = 0; i < p_.files.size(); ++i) {
      const SourceFile& f = p_.files[i];
      if (f.outline.ok() || files_with_tests.count(static_cast<int>(i)) ||
          !is_test_file(cfg_.pytest, f.rel))
        continue;
      TestResult t;
      t.id = f.rel;
      t.file = f.rel;
      t.defined_file = f.rel;
      t.unknown = true;
      t.reasons.push_back({"*", "parse-error",
                           fmt::format("{} does not parse: {}", f.rel, f.outline.error), f.rel,
                           f.outline.error_line});
      out.tests.push_back(std::move(t));
      files_with_tests.insert(static_cast<int>(i));
    }
    for (auto& d : import_conflicts(cfg_.pytest, p_, files_with_tests))
      out.diagnostics.push_back(std::move(d));
    // --deselect in addopts: pytest drops every item whose node id starts with one.
    if (!cfg_.pytest.deselect.empty()) {
      std::erase_if(out.tests, [&](const TestResult& t) {
        for (const auto& d : cfg_.pytest.deselect)
          if (t.id.starts_with(d)) return true;
        return false;
      });
      files_with_tests.clear();
      for (const auto& t : out.tests)
        if (auto it = p_.by_rel.find(t.file); it != p_.by_rel.end())
          files_with_tests.insert(it->second);
    }
    out.files_scanned = p_.files.size();
    out.test_files = files_with_tests.size();
    out.bytes_scanned = p_.total_bytes;
    assign_tiers(cfg_, out);
    return out;
  }

 private:
  // Tests are classified on all threads, in chunks of neighbouring tests. The
  // resolver memoizes as it goes, so each thread has its own: the fixture index and
  // the rules are read-only.
  void classify_items(const std::vector<TestItem>& items, std::vector<TestResult>& out) {
    out.resize(items.size());
    unsigned threads = threads_ ? threads_ : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min<unsigned>(threads, static_cast<unsigned>(items.size() / 2000 + 1));
    constexpr size_t kChunk = 256;
    std::atomic<size_t> next{0};
    auto work = [&](Resolver& r) {
      for (size_t start; (start = next.fetch_add(kChunk)) < items.size();)
        for (size_t i = start; i < std::min(items.size(), start + kChunk); ++i)
          out[i] = classify_item(items[i], r);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t)
      pool.emplace_back([&] {
        Resolver own(p_);
        work(own);
      });
    work(resolver_);
    for (auto& t : pool) t.join();
  }

  void add(TestResult& t, const std::string& service, const char* rule, std::string detail,
           const std::string& file, int line) {
    // The same rule given twice (by the config and by a preset, say) is one reason.
    for (const auto& r : t.reasons)
      if (r.service == service && r.rule == rule && r.detail == detail && r.file == file &&
          r.line == line)
        return;
    t.reasons.push_back({service, rule, std::move(detail), file, line});
  }

  // Calls fn(pattern, note) for the service's own patterns of a kind (markers, fixtures,
  // calls), then for those of its rules whose paths match the test's `file` (note says
  // which rule).
  template <typename F>
  static void each_pattern(const config::Service& s, std::vector<std::string> config::Service::*own,
                           std::vector<std::string> config::ScopedRule::*scoped,
                           const std::string& file, F&& fn) {
    for (const auto& p : s.*own) fn(p, std::string());
    for (const auto& rule : s.rules) {
      bool in = false;
      for (const auto& g : rule.paths) in = in || glob_match(g, file);
      if (!in) continue;
      std::string note;
      for (const auto& g : rule.paths) note += (note.empty() ? " (rule for " : ", ") + g;
      note += ")";
      for (const auto& p : rule.*scoped) fn(p, note);
    }
  }

  // A marker, fixture or base class no rule names, whose words name a service
  // (`redis_db`): that service, as an inferred reason, unless [tool.testmap] infer = false.
  void infer(TestResult& t, const char* what, const std::string& name, const std::string& shown,
             const std::string& file, int line, const std::string& subject = "") {
    if (!cfg_.infer || configured_.count(name)) return;  // the config says what it is
    // Per thread: the same few hundred names come back for every test.
    thread_local std::unordered_map<std::string, std::string> said;
    auto it = said.find(name);
    if (it == said.end()) it = said.emplace(name, service_in_name(name)).first;
    const std::string& service = it->second;
    if (service.empty() || cfg_.service(service) == nullptr) return;
    // A rule already gave the test this service: the name adds nothing.
    for (const auto& r : t.reasons)
      if (r.service == service && !r.runtime) return;
    add(t, service, "inferred", fmt::format("{} {}: its name says {}", what, shown, service), file,
        line);
    t.reasons.back().subject = subject.empty() ? name : subject;
  }

  // Django's database aliases a test names (a class's `databases`, django_db(databases=))
  // as the services [tool.testmap.django] databases maps them to; an alias it does not
  // map makes the test unknown: it reaches a database nobody named.
  void databases(TestResult& t, const std::vector<std::string>& aliases, const std::string& where,
                 const std::string& file, int line) {
    // A service a rule already gave the test (the default database of a Django TestCase)
    // is not said twice.
    auto has = [&](const std::string& service) {
      for (const auto& r : t.reasons)
        if (r.service == service && !r.runtime) return true;
      return false;
    };
    for (const auto& alias : aliases) {
      if (alias == "__all__") {
        for (const auto& [a, service] : cfg_.django_databases)
          if (!has(service))
            add(t, service, "database",
                fmt::format("{} uses every database ({}: {})", where, a, service), file, line);
        continue;
      }
      auto it = cfg_.django_databases.find(alias);
      if (it == cfg_.django_databases.end())
        unknown(t, "database",
                fmt::format("{} uses the database '{}', which [tool.testmap.django] databases does "
                            "not map to a service",
                            where, alias),
                file, line);
      else if (!has(it->second))
        add(t, it->second, "database",
            fmt::format("{} uses the database '{}' ({})", where, alias, it->second), file, line);
    }
  }

  void unknown(TestResult& t, const char* rule, std::string detail, const std::string& file,
               int line) {
    t.unknown = true;
    add(t, "*", rule, std::move(detail), file, line);
  }

  // Markers on the function, its classes (with everything inherited) and its module.
  std::vector<Marker> markers(const TestItem& item, Resolver& r) {
    std::vector<Marker> out;
    auto from = [&](int file, const std::vector<scan::Reduced>& decos, int line) {
      for (const auto& d : decos) {
        if (d.callee.empty()) continue;
        std::string q = r.qualify(file, d.callee);
        if (!q.starts_with("pytest.mark.")) continue;
        std::string name = q.substr(12);
        if (name.find('.') != std::string::npos) continue;
        out.push_back({name, &d, p_.files[file].rel, line});
      }
    };
    const auto& fo = p_.files[item.func_file].outline;
    from(item.func_file, fo.functions[item.func].decorators, fo.functions[item.func].line);
    auto class_marks = [&](int f, int c) {
      const auto& o = p_.files[f].outline;
      from(f, o.classes[c].decorators, o.classes[c].line);
      for (const auto& a : o.assignments)
        if (a.target == "pytestmark" && a.class_index == c) from(f, a.values, a.line);
    };
    for (const auto& [f, c] : item.classes) class_marks(f, c);
    for (const auto& [f, c] : item.outer) class_marks(f, c);
    for (const auto& a : p_.files[item.file].outline.assignments)
      if (a.target == "pytestmark" && a.scope.empty()) from(item.file, a.values, a.line);
    return out;
  }

  TestResult classify_item(const TestItem& item, Resolver& resolver) {
    const SourceFile& tf = p_.files[item.file];
    const SourceFile& ff = p_.files[item.func_file];
    const scan::Function& fn = ff.outline.functions[item.func];
    TestResult t;
    t.file = tf.rel;
    t.function = fn.name;
    // A method inherited from another file is located at the class that collects it.
    // (0 when even the class lives in another module and was imported into this one).
    if (item.func_file == item.file || item.classes.empty())
      t.line = fn.line;
    else if (item.classes.front().first == item.file)
      t.line = tf.outline.classes[item.classes.front().second].line;
    else
      t.line = 0;
    t.defined_file = ff.rel;
    t.defined_line = fn.line;
    std::string cls;
    for (const auto& c : item.class_path) cls += (cls.empty() ? "" : "::") + c;
    t.cls = cls;
    t.id = tf.rel + "::" + (cls.empty() ? "" : cls + "::") + fn.name;

    if (!tf.outline.ok())
      unknown(t, "parse-error", fmt::format("{} does not parse: {}", tf.rel, tf.outline.error),
              tf.rel, tf.outline.error_line);
    if (!ff.outline.ok() && item.func_file != item.file)
      unknown(t, "parse-error", fmt::format("{} does not parse: {}", ff.rel, ff.outline.error),
              ff.rel, ff.outline.error_line);

    // Paths.
    for (const auto& r : rules_)
      for (const auto& pat : r.service->paths)
        if (glob_match(pat, tf.rel))
          add(t, r.service->name, "path", fmt::format("{} matches '{}'", tf.rel, pat), tf.rel, 0);

    // Base classes.
    if (!item.classes.empty()) {
      auto [cf, ci] = item.classes.front();
      const Ancestry& a = resolver.ancestry(cf, ci);
      for (const auto& u : a.unresolved)
        unknown(t, "unresolved", u.message + " (in " + u.key + ")", u.file, u.line);
      const auto& tc = p_.files[cf].outline.classes[ci];
      for (const auto& r : rules_) {
        for (const auto& [sym, written] : r.bases) {
          bool hit = false;
          if (sym.kind == Symbol::kClass)
            for (const auto& [f, c] : a.classes) hit |= f == sym.file && c == sym.index;
          else
            for (const auto& e : a.externals) hit |= e == sym.name;
          if (hit)
            add(t, r.service->name, "base-class",
                fmt::format("{} inherits {}", tc.qualname, written), p_.files[cf].rel, tc.line);
        }
      }
      // Django's `databases = {...}` on the class or a base.
      for (const auto& [f, c] : a.classes)
        for (const auto& as : p_.files[f].outline.assignments)
          if (as.target == "databases" && as.class_index == c)
            databases(t, as.strings,
                      fmt::format("{}.databases", p_.files[f].outline.classes[c].qualname),
                      p_.files[f].rel, as.line);
      // The bases' names (not the test class's own, which names what is tested).
      for (const auto& [f, c] : a.classes) {
        if (f == cf && c == ci) continue;
        const auto& bc = p_.files[f].outline.classes[c];
        const std::string& module = p_.files[f].module;
        infer(t, "base class", bc.name, fmt::format("{} of {}", bc.qualname, tc.qualname),
              p_.files[cf].rel, tc.line, module.empty() ? "" : module + "." + bc.qualname);
      }
      for (const auto& e : a.externals)
        infer(t, "base class", e.substr(e.rfind('.') + 1), fmt::format("{} of {}", e, tc.qualname),
              p_.files[cf].rel, tc.line, e);
      for (const auto& [of, oc] : item.outer)
        for (const auto& u : resolver.ancestry(of, oc).unresolved)
          unknown(t, "unresolved", u.message + " (in " + u.key + ")", u.file, u.line);
    }

    // Markers, and the fixtures they request.
    std::vector<Marker> marks = markers(item, resolver);
    std::vector<std::pair<std::string, std::string>> requested;  // fixture, requested by
    std::set<std::string> parametrized;
    for (const auto& m : marks) {
      for (const auto& r : rules_)
        each_pattern(*r.service, &config::Service::markers, &config::ScopedRule::markers, t.file,
                     [&](const std::string& name, const std::string& note) {
                       if (name == m.name)
                         add(t, r.service->name, "marker",
                             fmt::format("@pytest.mark.{}{}", m.name, note), m.file, m.line);
                     });
      for (const auto& name : cfg_.dynamic.markers)
        if (name == m.name)
          unknown(t, "dynamic", fmt::format("@pytest.mark.{} chooses services at run time", m.name),
                  m.file, m.line);
      infer(t, "marker", m.name, "@pytest.mark." + m.name, m.file, m.line);
      if (m.name == "django_db")
        for (size_t k = 0; k < m.deco->kwarg_strings.size(); ++k)
          if (m.deco->kwargs[k].first == "databases")
            databases(t, m.deco->kwarg_strings[k], "@pytest.mark.django_db", m.file, m.line);
      if (m.name == "usefixtures")
        for (const auto& a : m.deco->args)
          if (!unquote(a).empty()) requested.emplace_back(unquote(a), "usefixtures");
      if (m.name == "parametrize" && !m.deco->args.empty()) {
        bool indirect = false;
        for (const auto& [k, v] : m.deco->kwargs) indirect |= k == "indirect" && v != "False";
        // Argument names: "a, b", or ("a", "b") / ["a", "b"].
        std::string names = unquote(m.deco->args[0]);
        if (!m.deco->arg_strings.empty())
          for (const auto& n : m.deco->arg_strings[0]) names += (names.empty() ? "" : ",") + n;
        for (size_t start = 0; !indirect && start <= names.size();) {
          size_t comma = names.find(',', start);
          std::string n =
              names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
          n.erase(0, n.find_first_not_of(' '));
          n.erase(n.find_last_not_of(' ') + 1);
          if (!n.empty()) parametrized.insert(n);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
    }

    // Fixtures: parameters, usefixtures, autouse, then everything they request.
    std::vector<std::pair<int, int>> fixture_classes = item.classes;
    for (auto it = item.outer.rbegin(); it != item.outer.rend(); ++it)
      for (const auto& ac : resolver.ancestry(it->first, it->second).classes)
        fixture_classes.push_back(ac);
    std::vector<FixtureScope> scopes = fixtures_.scopes_for(item.file, fixture_classes);
    if (!item.unittest) {
      size_t positional = 0;
      for (const auto& p : fn.params)
        if (p[0] != '*') ++positional;
      size_t first_default = positional - std::min<size_t>(positional, fn.defaults);
      size_t index = 0;
      for (const auto& p : fn.params) {
        if (p[0] == '*') continue;
        bool has_default = index++ >= first_default;
        if (has_default || (index == 1 && !item.class_path.empty() && (p == "self" || p == "cls")))
          continue;
        if (p == "request" || parametrized.count(p)) continue;
        requested.emplace_back(p, "the test");
      }
    }
    for (int d : fixtures_.autouse(scopes))
      requested.emplace_back(fixtures_.def(d).name, "autouse");
    for (int broken : fixtures_.broken_files(scopes)) {
      if (broken == item.file) continue;  // already said above
      const auto& bf = p_.files[broken];
      unknown(
          t, "parse-error",
          fmt::format("{} does not parse: {}; its fixtures are unknown", bf.rel, bf.outline.error),
          bf.rel, bf.outline.error_line);
    }
    fixture_closure(t, scopes, requested);

    // Calls in the test and its class's set-up methods.
    check_calls(t, ff, fn, "the test");
    for (const auto& [f, c] : item.classes) {
      const auto& o = p_.files[f].outline;
      for (const auto& m : o.functions)
        if (m.parent_class == c && kSetupMethods.count(m.name))
          check_calls(t, p_.files[f], m, m.qualname);
    }
    finish(t);
    return t;
  }

  void fixture_closure(TestResult& t, const std::vector<FixtureScope>& scopes,
                       std::vector<std::pair<std::string, std::string>> queue) {
    std::unordered_set<int> seen_defs;
    std::unordered_set<std::string> seen_names;
    for (size_t qi = 0; qi < queue.size(); ++qi) {
      // Named, not a structured binding: lambdas below capture it (clang before 16).
      std::string name = queue[qi].first;
      std::string by = queue[qi].second;
      int after = -1;
      // A fixture requesting its own name gets the next definition out.
      if (by.starts_with("#")) {
        after = std::stoi(by.substr(1));
        by = fixtures_.def(after).name;
        if (by != name) after = -1;
      }
      int d = fixtures_.find(scopes, name, after);
      std::string via = by == "the test" ? "" : fmt::format(", requested by {}", by);
      std::string file = t.file;
      int line = t.line;
      if (d >= 0) {
        file = p_.files[fixtures_.def(d).file].rel;
        line = p_.files[fixtures_.def(d).file].outline.functions[fixtures_.def(d).func].line;
      }
      if (seen_names.insert(name + "@" + std::to_string(d)).second) {
        for (const auto& r : rules_)
          each_pattern(*r.service, &config::Service::fixtures, &config::ScopedRule::fixtures,
                       t.file, [&](const std::string& f, const std::string& note) {
                         if (f == name)
                           add(t, r.service->name, "fixture",
                               fmt::format("fixture {}{}{}", name, via, note), file, line);
                       });
        for (const auto& f : cfg_.dynamic.fixtures)
          if (f == name)
            unknown(t, "dynamic",
                    fmt::format("fixture {}{} chooses services at run time", name, via), file,
                    line);
        infer(t, "fixture", name, name + via, file, line);
      }
      if (d < 0 || !seen_defs.insert(d).second) continue;
      const FixtureDef& def = fixtures_.def(d);
      const SourceFile& sf = p_.files[def.file];
      const scan::Function& f = sf.outline.functions[def.func];
      check_calls(t, sf, f, "fixture " + def.name);
      size_t index = 0;
      size_t positional = 0;
      for (const auto& p : f.params)
        if (p[0] != '*') ++positional;
      size_t first_default = positional - std::min<size_t>(positional, f.defaults);
      for (const auto& p : f.params) {
        if (p[0] == '*') continue;
        bool has_default = index++ >= first_default;
        if (has_default || p == "request" ||
            (index == 1 && def.cls >= 0 && (p == "self" || p == "cls")))
          continue;
        queue.emplace_back(p, "#" + std::to_string(d));
      }
    }
  }

  // Calls in the body, and decorators that are calls (`@override_settings(...)`).
  void check_calls(TestResult& t, const SourceFile& sf, const scan::Function& f,
                   const std::string& where) {
    std::vector<std::string> calls = f.calls;
    for (const auto& a : f.attr_calls) calls.push_back("()." + a);
    for (const auto& d : f.decorators)
      if (d.is_call) calls.push_back(d.callee);
    for (const auto& call : calls) {
      for (const auto& r : rules_)
        each_pattern(*r.service, &config::Service::calls, &config::ScopedRule::calls, t.file,
                     [&](const std::string& pat, const std::string& note) {
                       if (call_matches(pat, call))
                         add(t, r.service->name, "call",
                             fmt::format("{} calls {}(){}", where, call, note), sf.rel, f.line);
                     });
      for (const auto& pat : cfg_.dynamic.calls)
        if (call_matches(pat, call))
          unknown(t, "dynamic",
                  fmt::format("{} calls {}(), which chooses services at run time", where, call),
                  sf.rel, f.line);
    }
  }

  // A test's services are the union of its reasons; an unknown test needs them all.
  void finish(TestResult& t) {
    // An inferred reason for a service a rule gave later (a fixture after a base class)
    // says nothing more.
    std::erase_if(t.reasons, [&](const Reason& r) {
      if (std::string_view(r.rule) != "inferred") return false;
      for (const auto& o : t.reasons)
        if (&o != &r && o.service == r.service && o.rule != "inferred") return true;
      return false;
    });
    std::set<std::string> services;
    for (const auto& r : t.reasons)
      if (r.service != "*") services.insert(r.service);
    if (t.unknown) services.clear();
    t.services.assign(services.begin(), services.end());
  }

  const config::Config& cfg_;
  const Project& p_;
  unsigned threads_;
  Resolver resolver_;
  FixtureIndex fixtures_;
  std::vector<ServiceRules> rules_;
  // Markers and fixtures some rule names: their names are not read for services.
  std::unordered_set<std::string> configured_;
};

}  // namespace

Classification classify(const config::Config& cfg, const Project& project, unsigned threads) {
  // conftest.py's collect_ignore lists count like --ignore, for this project's files.
  config::Config effective = cfg;
  effective.pytest = with_conftest_ignores(cfg.pytest, project);
  return Classifier(effective, project, threads).run();
}

namespace {

// Loads the config at `root`, scans the tree, classifies it and merges what recorded runs
// saw; with `within`, the tests under those paths as pytest collects them (classify_paths).
Classification classify_at(const std::string& root, const std::vector<std::string>* within,
                           unsigned threads, const RuntimeUses* runtime) {
  Stopwatch clock;
  config::Config cfg = config::load_config(root);
  double config_seconds = clock.lap();
  if (!cfg.unusable.empty()) {
    Classification c;
    c.root = cfg.root;
    c.unusable = cfg.unusable;
    return c;
  }
  if (within) {
    // pytest collects what its arguments name, testpaths or not.
    cfg.pytest.testpaths.clear();
    for (const auto& w : *within) cfg.pytest.testpaths.push_back(w.substr(0, w.find("::")));
  }
  // Classification reads no code unit's hash (selection does, with its own scan): a third
  // of the scan's time saved.
  Project project = load_project(cfg, threads, {}, false);
  clock.lap();
  Classification c = classify(cfg, project, threads);
  c.timings.emplace_back("config", config_seconds);
  c.timings.insert(c.timings.end(), project.timings.begin(), project.timings.end());
  c.timings.emplace_back("classify", clock.lap());
  if (runtime != nullptr && !runtime->empty()) {
    merge_runtime(cfg, *runtime, c);
    c.timings.emplace_back("merge", clock.lap());
  }
  if (within) {
    // Node ids narrow below the files; tiers and counts are for those tests alone.
    std::erase_if(c.tests, [&](const TestResult& t) { return !config::within(*within, t.id); });
    std::set<std::string> files;
    for (const auto& t : c.tests) files.insert(t.file);
    c.test_files = files.size();
    assign_tiers(cfg, c);
  }
  return c;
}

}  // namespace

Classification classify_root(const std::string& root, unsigned threads,
                             const RuntimeUses* runtime) {
  return classify_at(root, nullptr, threads, runtime);
}

Classification classify_paths(const std::string& root, const std::vector<std::string>& within,
                              unsigned threads, const RuntimeUses* runtime) {
  return classify_at(root, within.empty() ? nullptr : &within, threads, runtime);
}

}  // namespace testmap::classify
