// The draft `testmap init` writes: services from compose and CI files, from the names of
// markers, fixtures and base classes, from Django's settings, and from recorded runs.
#include "core/init/draft.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/classify/infer.h"
#include "core/config/presets.h"
#include "core/scan/scanner.h"

namespace fs = std::filesystem;

namespace testmap::init {
namespace {

// What the source alone says of a test (merge_runtime keeps it apart once a run is in).
const std::vector<std::string>& static_services(const classify::TestResult& t) {
  return t.recorded ? t.static_services : t.services;
}
bool static_unknown(const classify::TestResult& t) {
  return t.recorded ? t.static_unknown : t.unknown;
}

std::string tests_word(size_t n) {
  return n == 1 ? "1 test" : fmt::format("{} tests", n);
}

// The module a file is imported as, by the package walk pytest's default import mode
// does (up while the directory has an __init__.py): "tests/helpers.py" -> tests.helpers
// in a package, helpers outside one; the dotted name a base-classes rule resolves.
std::string module_of(const fs::path& root, const std::string& file) {
  fs::path p(file);
  std::string m = p.stem() == "__init__" ? "" : p.stem().string();
  std::error_code ec;
  for (fs::path dir = p.parent_path(); !dir.empty() && fs::exists(root / dir / "__init__.py", ec);
       dir = dir.parent_path())
    m = dir.filename().string() + (m.empty() ? "" : "." + m);
  return m;
}

// "used in setup by fixture a, b" / "... by the shared fixture a": the fixtures named.
std::vector<std::string> fixtures_in(const std::string& detail) {
  std::vector<std::string> out;
  for (const char* marker : {" by the shared fixture ", " by fixture "}) {
    size_t at = detail.find(marker);
    if (at == std::string::npos) continue;
    std::string list = detail.substr(at + std::string(marker).size());
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(", ", start);
      std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
      // pytest's own wrappers of setUpClass/setup_method: no name a rule can use; the
      // class's code is the test's own.
      if (!name.empty() && !name.starts_with("_unittest_") && !name.starts_with("_xunit_setup_"))
        out.push_back(name);
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    break;
  }
  return out;
}

// Which database engines Django's settings files name, by service.
std::set<std::string> django_engines(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (it.depth() >= 4 || name.starts_with(".") || name == "node_modules" || name == "venv" ||
          name == "site-packages" || name == "__pycache__")
        it.disable_recursion_pending();
      continue;
    }
    std::string parent = it->path().parent_path().filename().string();
    if (!(name == "settings.py" || (parent == "settings" && name.ends_with(".py")) ||
          (name.starts_with("settings") && name.ends_with(".py"))))
      continue;
    std::string text;
    if (!config::read_text(it->path(), &text)) continue;
    if (text.find("django.db.backends.postgresql") != std::string::npos ||
        text.find("django.contrib.gis.db.backends.postgis") != std::string::npos)
      out.insert("postgres");
    if (text.find("django.db.backends.mysql") != std::string::npos) out.insert("mysql");
    if (text.find("django.db.backends.sqlite3") != std::string::npos) out.insert("sqlite");
  }
  return out;
}

// The service a fixture's body starts, from the programs its string literals name
// ("redis-server", "/usr/lib/postgresql/16/bin/pg_ctl", a "postgres:16" image), or "".
std::string started_service(std::string_view body) {
  static const std::pair<const char*, const char*> kPrograms[] = {
      {"redis-server", "redis"},
      {"valkey-server", "redis"},
      {"memcached", "memcached"},
      {"pg_ctl", "postgres"},
      {"initdb", "postgres"},
      {"postgres", "postgres"},
      {"mysqld", "mysql"},
      {"mariadbd", "mysql"},
      {"mongod", "mongodb"},
      {"nats-server", "nats"},
      {"minio", "minio"},
      {"clickhouse-server", "clickhouse"},
      {"kafka-server-start", "kafka"},
      {"kafka-server-start.sh", "kafka"},
      {"rabbitmq-server", "rabbitmq"},
      {"elasticsearch", "elasticsearch"}};
  for (size_t i = 0; i < body.size(); ++i) {
    char q = body[i];
    if (q != '"' && q != '\'') continue;
    size_t end = body.find(q, i + 1);
    if (end == std::string_view::npos) break;
    std::string_view lit = body.substr(i + 1, end - i - 1);
    i = end;
    if (lit.empty() || lit.size() > 200 || lit.find('\n') != std::string_view::npos) continue;
    std::string_view base = lit.substr(lit.rfind('/') + 1);
    for (const auto& [program, service] : kPrograms)
      if (base == program) return service;
    // "docker", "run", ..., "postgres:16": an image with a tag
    if (lit.find(':') != std::string_view::npos && lit.find(' ') == std::string_view::npos &&
        lit.find("//") == std::string_view::npos) {
      std::string svc = config::service_of_image(std::string(lit));
      if (!svc.empty() && std::isalpha(static_cast<unsigned char>(lit[0]))) return svc;
    }
  }
  return "";
}

bool uses_django(const config::Config& cfg) {
  std::error_code ec;
  fs::path root(cfg.root);
  if (fs::exists(root / "manage.py", ec)) return true;
  for (const char* f : {"pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini"}) {
    std::string text;
    if (config::read_text(root / f, &text) &&
        (text.find("DJANGO_SETTINGS_MODULE") != std::string::npos ||
         text.find("pytest-django") != std::string::npos))
      return true;
  }
  return false;
}

struct Builder {
  const config::Config& cfg;
  Draft d;
  std::set<std::string> user_services;  // [tool.testmap.services.NAME] in pyproject.toml
  // Rules from what tests ran with too little behind them (fewer than 3 tests), by service.
  struct Weak {
    std::string kind, name;
    std::set<std::string> tests;
  };
  std::map<std::string, std::vector<Weak>> weak_;

  ServiceDraft& service(const std::string& name) {
    for (auto& s : d.services)
      if (s.name == name) return s;
    d.services.push_back({.name = name, .configured = user_services.count(name) > 0});
    return d.services.back();
  }

  void read_pyproject() {
    std::string text;
    if (!config::read_text(fs::path(cfg.root) / "pyproject.toml", &text)) return;
    // An explicit [tool.testmap] header: its keys cannot be given a second time.
    size_t pos = 0;
    while ((pos = text.find("[tool.testmap]", pos)) != std::string::npos) {
      size_t bol = text.rfind('\n', pos);
      bol = bol == std::string::npos ? 0 : bol + 1;
      if (text.find_first_not_of(" \t", bol) == pos) d.has_testmap_table = true;
      pos += 14;
    }
    try {
      toml::table doc = toml::parse(text);
      if (const auto* services = doc.at_path("tool.testmap.services").as_table())
        for (const auto& [k, v] : *services) user_services.insert(std::string(k.str()));
    } catch (const toml::parse_error&) {
    }
  }

  void from_files() {
    config::Config builtins;
    config::add_builtin_services(builtins);
    std::map<std::string, std::set<std::string>> keys_of;  // service -> file keys
    for (const auto& f : cfg.file_services) {
      ServiceDraft& s = service(f.name);
      std::string what = f.image.empty() ? f.key : fmt::format("{} ({})", f.key, f.image);
      if (f.source == "gitlab")
        s.notes.push_back(fmt::format("{}:{}: runs {} as a CI service", f.file, f.line, what));
      else if (f.ports.empty())
        s.notes.push_back(
            fmt::format("{}:{}: {}, no port published at a fixed number", f.file, f.line, what));
      else
        s.notes.push_back(
            fmt::format("{}:{}: {} publishes {}", f.file, f.line, what, fmt::join(f.ports, ", ")));
      if (f.source == "compose") keys_of[f.name].insert(f.key);
      if (f.ports.empty()) continue;
      // Ports written replace a built-in service's own: keep those too.
      if (s.ports.empty())
        if (const config::Service* known = builtins.service(f.name)) s.ports = known->ports;
      for (int p : f.ports)
        if (std::find(s.ports.begin(), s.ports.end(), p) == s.ports.end()) s.ports.push_back(p);
    }
    for (const auto& [name, keys] : keys_of)
      if (keys.size() > 1)
        d.questions.push_back(fmt::format(
            "the compose files run {} {} services ({}): tests that reach any of them count as "
            "{}. To tell them apart, give one its own name and ports: "
            "[tool.testmap.services.{}] ports = [...]",
            keys.size(), name, fmt::join(keys, ", "), name, *keys.rbegin()));
  }

  void from_source(const classify::Classification& c) {
    // (service, kind, name) -> tests
    std::map<std::tuple<std::string, std::string, std::string>, std::set<std::string>> inferred;
    std::map<std::string, std::vector<std::string>> aliases;  // unmapped Django alias -> tests
    std::map<std::string, size_t> unknown_rules;
    for (const auto& t : c.tests) {
      ++d.tests;
      for (const auto& s : static_services(t)) ++service(s).tests;
      for (const auto& r : t.reasons) {
        if (r.runtime) continue;
        if (r.rule == "inferred" && !r.subject.empty()) {
          std::string kind = r.detail.starts_with("marker ")    ? "markers"
                             : r.detail.starts_with("fixture ") ? "fixtures"
                                                                : "base-classes";
          inferred[{r.service, kind, r.subject}].insert(t.id);
        } else if (r.service == "*" && r.rule == "database") {
          size_t a = r.detail.find("the database '");
          size_t b = a == std::string::npos ? a : r.detail.find('\'', a + 14);
          if (b != std::string::npos) aliases[r.detail.substr(a + 14, b - a - 14)].push_back(t.id);
        } else if (r.service == "*") {
          ++unknown_rules[r.rule];
        }
      }
    }
    for (const auto& [key, tests] : inferred) {
      const auto& [svc, kind, name] = key;
      ServiceDraft& s = service(svc);
      if (s.configured) continue;
      s.rules.push_back({kind, name, tests.size(), "its name says " + svc});
    }
    for (const auto& [alias, tests] : aliases)
      d.questions.push_back(
          fmt::format("{} use the Django database '{}' (e.g. {}): which service is it? "
                      "[tool.testmap.django] databases = {{ {} = \"SERVICE\" }}",
                      tests_word(tests.size()), alias, tests.front(), alias));
    size_t unknown = 0;
    for (const auto& t : c.tests) unknown += static_unknown(t);
    if (unknown > 0) {
      std::vector<std::string> why;
      for (const auto& [rule, n] : unknown_rules) why.push_back(fmt::format("{}: {}", rule, n));
      d.questions.push_back(
          fmt::format("{} cannot be classified from the source ({}); they run with every service "
                      "until that is fixed: `testmap classify --explain TEST` says why",
                      tests_word(unknown), fmt::join(why, ", ")));
    }
  }

  // conftest.py fixtures that start a server (subprocess.Popen(["redis-server", ...]),
  // pg_ctl, `docker run postgres:16`): the tests that request them need it. Fixtures whose
  // names already say it are left to the names.
  void from_fixtures(const classify::Classification& c) {
    std::set<fs::path> dirs;
    for (const auto& t : c.tests)
      for (fs::path d = fs::path(t.file).parent_path();; d = d.parent_path()) {
        if (!dirs.insert(d).second || d.empty()) break;
      }
    for (const auto& dir : dirs) {
      fs::path rel = dir / "conftest.py";
      std::string text;
      if (!config::read_text(fs::path(cfg.root) / rel, &text)) continue;
      scan::Outline o = scan::scan_source(text, rel.generic_string());
      std::vector<size_t> starts{0};  // line -> offset
      for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n') starts.push_back(i + 1);
      for (const auto& f : o.functions) {
        bool fixture = false;
        for (const auto& dec : f.decorators) {
          const std::string& name = dec.callee.empty() ? dec.text : dec.callee;
          fixture |= name == "fixture" || name.ends_with(".fixture");
        }
        if (!fixture || f.line < 1 || f.end_line < f.line ||
            static_cast<size_t>(f.end_line) > starts.size())
          continue;
        size_t from = starts[f.line - 1];
        size_t to =
            static_cast<size_t>(f.end_line) < starts.size() ? starts[f.end_line] : text.size();
        std::string svc = started_service(std::string_view(text).substr(from, to - from));
        if (svc.empty() || classify::service_in_name(f.name) == svc) continue;
        ServiceDraft& s = service(svc);
        if (s.configured) continue;
        s.rules.push_back({"fixtures", f.name, 0,
                           fmt::format("{}:{} starts {}", rel.generic_string(), f.line, svc)});
      }
    }
  }

  void from_django() {
    if (std::find(cfg.presets.begin(), cfg.presets.end(), "django") != cfg.presets.end() ||
        !uses_django(cfg))
      return;
    std::set<std::string> engines = django_engines(cfg.root);
    if (engines.count("postgres") || engines.empty()) {
      d.presets.push_back("django");
      d.preset_notes.push_back(
          engines.empty()
              ? "a Django project (manage.py or DJANGO_SETTINGS_MODULE); no settings file named "
                "its database engine, so django_db tests are taken to need postgres"
              : "a Django project whose settings use PostgreSQL: django_db tests and Django's "
                "TestCase need postgres");
      if (engines.count("mysql"))
        d.questions.push_back(
            "Django's settings name both PostgreSQL and MySQL: which one do the tests use? The "
            "django preset says postgres");
    } else if (engines.count("mysql")) {
      d.questions.push_back(
          "a Django project whose settings use MySQL: the django preset would say postgres. "
          "Add markers = [\"django_db\"] and Django's TestCase base classes to "
          "[tool.testmap.services.mysql]");
    } else {
      d.preset_notes.push_back(
          "a Django project whose settings use SQLite only: its database tests need no server, "
          "so no preset is written");
    }
  }

  // Helpers and base classes of the test code (`_get_client` in conftest.py,
  // `RQTestCase`) that ran in tests using a service and (all but one in fifty: a server
  // that refused the connection) in no recorded test that did not. As calls and
  // base-classes rules they reach the fixtures, classes and tests the run did not include.
  // Module-level names only (a nested `cleanup` says little), and only the widest: one
  // that ran in a subset of another's tests adds nothing. Returns, per service, the tests
  // the chosen rules cover.
  std::map<std::string, std::set<std::string>> rules_from_deps(
      const classify::Classification& c, const classify::RuntimeUses& rt,
      const store::DepsSnapshot& deps, const std::set<std::string>& fixtures,
      const std::map<std::string, std::set<std::string>>& missing) {
    std::set<std::string> test_files, test_dirs;
    for (const auto& t : c.tests) {
      test_files.insert(t.file);
      test_dirs.insert(fs::path(t.file).parent_path().generic_string());
    }
    // The suite's own code: test files, conftest.py, the test directories, and a
    // package's test support (shop/testing/cases.py), where base classes and helpers live.
    auto test_code = [&](const std::string& file) {
      fs::path p(file);
      if (test_files.count(file) || p.filename() == "conftest.py" ||
          test_dirs.count(p.parent_path().generic_string()))
        return true;
      for (const auto& part : p) {
        std::string s = part.stem().string();
        if (s == "testing" || s == "tests" || s == "test" || s == "testutils" ||
            s == "test_utils" || s == "testlib")
          return true;
      }
      return false;
    };
    // (kind, spelling) -> tests that ran it; test -> services it used.
    std::map<std::pair<std::string, std::string>, std::set<std::string>> ran;
    std::map<std::string, std::set<std::string>> used;
    for (const auto& [id, td] : deps.tests) {
      auto it = rt.uses.find(id);
      if (it != rt.uses.end())
        for (const auto& u : it->second)
          if (u.service != "external") used[id].insert(u.service);
      for (const auto& unit : td.units) {
        if (!test_code(unit.file) || unit.name.empty() || unit.name[0] == '<') continue;
        size_t dot = unit.name.find('.');
        std::string name = unit.name.substr(0, dot);
        // A method ran: its class, by convention capitalised (a nested function's outer
        // function is no class). A test class is a rule for its tests and its subclasses'.
        if (dot != std::string::npos) {
          if (!std::isupper(static_cast<unsigned char>(name[0]))) continue;
          std::string module = module_of(cfg.root, unit.file);
          if (!module.empty()) ran[{"base-classes", module + "." + name}].insert(id);
          continue;
        }
        if (name.size() < 4 || std::isupper(static_cast<unsigned char>(name[0])) ||
            name.starts_with("test") || name.starts_with("setup_") ||
            name.starts_with("teardown_") || name.starts_with("pytest_") || fixtures.count(name))
          continue;
        ran[{"calls", name}].insert(id);
      }
    }
    std::map<std::string, std::set<std::string>> covered;
    for (auto& s : d.services) {
      if (s.configured) continue;
      struct Candidate {
        std::pair<std::string, std::string> key;
        const std::set<std::string>* tests;
        size_t with = 0, without = 0;
      };
      std::vector<Candidate> candidates;
      for (const auto& [key, tests] : ran) {
        Candidate cand{key, &tests};
        for (const auto& id : tests) {
          auto u = used.find(id);
          (u != used.end() && u->second.count(s.name) ? cand.with : cand.without)++;
        }
        // Worth a rule only if it gives the service to a test the source did not.
        auto m = missing.find(s.name);
        bool adds = false;
        if (m != missing.end())
          for (const auto& id : tests) adds = adds || m->second.count(id);
        bool known = false;
        for (const auto& r : s.rules)
          known = known || (r.kind == key.first && r.name == key.second);
        if (!adds || cand.without * 50 > cand.with) continue;
        if (cand.with < 3) {  // too little to write down: a hint in a question
          if (cand.without == 0) weak_[s.name].push_back({key.first, key.second, tests});
          continue;
        }
        if (known)  // a rule the source already suggested (a name): it covers these too
          covered[s.name].insert(tests.begin(), tests.end());
        else
          candidates.push_back(cand);
      }
      for (const auto& cand : candidates) {
        bool dominated = false;
        for (const auto& other : candidates)
          if (other.key != cand.key && other.tests->size() >= cand.tests->size() &&
              std::includes(other.tests->begin(), other.tests->end(), cand.tests->begin(),
                            cand.tests->end()) &&
              (other.tests->size() > cand.tests->size() || other.key < cand.key))
            dominated = true;
        if (dominated) continue;
        std::string why =
            fmt::format("ran in these tests, which used {} in a recorded run", s.name);
        if (cand.without) why += fmt::format(", and in {} that did not", tests_word(cand.without));
        s.rules.push_back({cand.key.first, cand.key.second, cand.with, why});
        covered[s.name].insert(cand.tests->begin(), cand.tests->end());
      }
    }
    return covered;
  }

  void from_runs(const classify::Classification& c, const classify::RuntimeUses& rt,
                 const store::DepsSnapshot* deps) {
    struct Missing {
      std::map<std::string, std::set<std::string>> fixtures;  // fixture -> tests
      std::map<std::string, std::vector<std::string>> own;    // file -> tests, no fixture
    };
    std::map<std::string, Missing> missing;
    std::map<std::string, std::set<std::string>> unneeded;  // static-only, seen passing
    std::map<std::string, std::set<std::string>> external;  // address -> tests
    std::map<std::string, size_t> file_tests;               // file -> recorded tests
    std::map<std::string, size_t> file_sizes;               // file -> tests
    for (const auto& t : c.tests) ++file_sizes[t.file];
    std::map<std::pair<std::string, std::string>, size_t> file_service_tests;
    for (const auto& t : c.tests) {
      auto it = rt.uses.find(t.id);
      bool seen = it != rt.uses.end() || rt.passed.count(t.id);
      if (!seen) continue;
      ++d.recorded;
      ++file_tests[t.file];
      std::set<std::string> used;
      if (it != rt.uses.end())
        for (const auto& u : it->second) {
          if (u.service == "external") {
            external[u.detail].insert(t.id);
            continue;
          }
          used.insert(u.service);
        }
      for (const auto& s : used) {
        ++service(s).recorded_tests;
        ++file_service_tests[{t.file, s}];
        const auto& statics = static_services(t);
        if (static_unknown(t) || std::find(statics.begin(), statics.end(), s) != statics.end())
          continue;
        std::vector<std::string> by;
        for (const auto& u : it->second)
          if (u.service == s)
            for (auto& f : fixtures_in(u.detail)) by.push_back(f);
        if (by.empty())
          missing[s].own[t.file].push_back(t.id);
        else
          for (const auto& f : by) missing[s].fixtures[f].insert(t.id);
      }
      if (rt.passed.count(t.id))
        for (const auto& s : static_services(t))
          if (!used.count(s)) unneeded[s].insert(t.id);
    }
    std::set<std::string> fixtures;  // fixtures with a rule of their own
    for (const auto& [svc, m] : missing) {
      ServiceDraft& s = service(svc);
      for (const auto& [fixture, tests] : m.fixtures) {
        s.rules.push_back({"fixtures", fixture, tests.size(),
                           fmt::format("its code used {} in a recorded run", svc)});
        fixtures.insert(fixture);
      }
    }
    std::map<std::string, std::set<std::string>> covered;
    if (deps && !deps->tests.empty()) {
      std::map<std::string, std::set<std::string>> lacking;  // service -> tests the source lacks
      for (const auto& [svc, m] : missing) {
        for (const auto& [f, tests] : m.fixtures) lacking[svc].insert(tests.begin(), tests.end());
        for (const auto& [f, tests] : m.own) lacking[svc].insert(tests.begin(), tests.end());
      }
      covered = rules_from_deps(c, rt, *deps, fixtures, lacking);
    }
    for (auto& [svc, m] : missing) {
      ServiceDraft& s = service(svc);
      const std::set<std::string>& by_deps = covered[svc];
      for (auto& [file, all] : m.own) {
        std::vector<std::string> tests;
        for (const auto& id : all)
          if (!by_deps.count(id)) tests.push_back(id);
        if (tests.empty()) continue;
        // Every recorded test of the file used it, and at least half its tests were run:
        // the file is the rule (one test of a file of mocks says nothing of the rest).
        if (file_service_tests[{file, svc}] == file_tests[file] &&
            2 * file_tests[file] >= file_sizes[file]) {
          s.rules.push_back({"paths", file, tests.size(),
                             fmt::format("each of its tests used {} in a recorded run", svc)});
          continue;
        }
        std::string hint = "add a marker to them, or a calls rule";
        const Weak* best = nullptr;
        for (const auto& w : weak_[svc])
          if (w.tests.count(tests.front()) && (!best || w.tests.size() > best->tests.size()))
            best = &w;
        if (best)
          hint = fmt::format(
              "perhaps {} = [\"{}\"]: it ran in {} of them, and in no recorded test "
              "that did not use {}",
              best->kind, best->name, tests_word(best->tests.size()), svc);
        d.questions.push_back(
            fmt::format("{} of {} use {} in their own code, not in a fixture (e.g. {}), and other "
                        "tests there do not: {}",
                        tests_word(tests.size()), file, svc, tests.front(), hint));
      }
    }
    for (const auto& [svc, tests] : unneeded)
      d.questions.push_back(fmt::format(
          "the source gives {} to {} that a recorded run saw pass without using it (e.g. "
          "{}): is a rule too wide? `testmap classify --explain TEST` names it",
          svc, tests_word(tests.size()), *tests.begin()));
    size_t shown = 0;
    for (const auto& [addr, tests] : external) {
      if (shown++ == 10) {
        d.questions.push_back(
            fmt::format("and {} more addresses: `testmap classify --diff`", external.size() - 10));
        break;
      }
      d.questions.push_back(fmt::format(
          "{} reached {}, which no service names (e.g. {}): which service is it? Give it "
          "ports = [PORT] or processes = [\"PROGRAM\"]",
          tests_word(tests.size()), addr, *tests.begin()));
    }
  }
};

}  // namespace

Draft make_draft(const config::Config& cfg, const classify::Classification& c,
                 const classify::RuntimeUses* runtime, const store::DepsSnapshot* deps) {
  Builder b{cfg, {}, {}, {}};
  b.read_pyproject();
  b.from_files();
  b.from_django();
  b.from_source(c);
  b.from_fixtures(c);
  if (runtime && !runtime->empty()) {
    b.from_runs(c, *runtime, deps);
  }
  Draft d = std::move(b.d);
  // Services nothing names and no rule or port would change: nothing to write.
  std::erase_if(d.services, [](const ServiceDraft& s) {
    return s.rules.empty() && s.ports.empty() && s.notes.empty() && s.processes.empty();
  });
  for (auto& s : d.services)
    std::stable_sort(s.rules.begin(), s.rules.end(),
                     [](const Rule& a, const Rule& b) { return a.tests > b.tests; });
  return d;
}

}  // namespace testmap::init
