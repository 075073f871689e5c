// Reads pyproject.toml with toml++ and pytest's ini files, checks every key and
// type, and layers the user's services over the built-in ones and presets.
#include "core/config/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/config/ini.h"
#include "core/config/lint_config.h"
#include "core/config/presets.h"
#include "core/where/mirror.h"

namespace testmap::config {
namespace fs = std::filesystem;
namespace {

struct Reader {
  std::string file;
  Diagnostics* diags;

  void error(const toml::node* node, const std::string& key, const std::string& message) {
    int line = node ? static_cast<int>(node->source().begin.line) : 0;
    diags->push_back({file, line, key, message});
  }

  std::vector<std::string> strings(const toml::node& node, const std::string& key) {
    std::vector<std::string> out;
    if (auto s = node.value<std::string>()) {
      out.push_back(*s);
    } else if (auto* arr = node.as_array()) {
      for (const auto& item : *arr) {
        if (auto s = item.value<std::string>())
          out.push_back(*s);
        else
          error(&item, key, "expected a string in this list");
      }
    } else {
      error(&node, key, "expected a string or a list of strings");
    }
    return out;
  }

  std::vector<int> ints(const toml::node& node, const std::string& key) {
    std::vector<int> out;
    auto one = [&](const toml::node& n) {
      auto v = n.value<int64_t>();
      if (v && *v > 0 && *v < 65536)
        out.push_back(static_cast<int>(*v));
      else
        error(&n, key, "expected a port number (1 to 65535)");
    };
    if (auto* arr = node.as_array()) {
      for (const auto& item : *arr) one(item);
    } else {
      one(node);
    }
    return out;
  }

  void service(const std::string& name, const toml::table& t, Service& s) {
    for (const auto& [k, v] : t) {
      std::string key = fmt::format("tool.testmap.services.{}.{}", name, k.str());
      std::string_view ks = k.str();
      if (ks == "ports") {
        s.ports = ints(v, key);
        s.ports_configured = true;
      } else if (ks == "unix-sockets")
        append(s.unix_sockets, strings(v, key));
      else if (ks == "rules") {
        const toml::array* arr = v.as_array();
        if (!arr) {
          error(&v, key, "expected a list of tables ([[...rules]]) with paths");
          continue;
        }
        for (size_t i = 0; i < arr->size(); ++i) {
          std::string rkey = fmt::format("{}[{}]", key, i);
          const toml::table* rt = (*arr)[i].as_table();
          if (!rt) {
            error(&(*arr)[i], rkey, "expected a table with paths");
            continue;
          }
          check_table(*rt, rkey,
                      {{"paths", Kind::kStrings},
                       {"markers", Kind::kStrings},
                       {"fixtures", Kind::kStrings},
                       {"calls", Kind::kStrings}});
          ScopedRule rule;
          auto list = [&](const char* name, std::vector<std::string>& to) {
            if (const toml::node* n = rt->get(name); n && n->is_array())
              for (const auto& e : *n->as_array())
                if (auto str = e.value<std::string>()) to.push_back(*str);
          };
          list("paths", rule.paths);
          list("markers", rule.markers);
          list("fixtures", rule.fixtures);
          list("calls", rule.calls);
          if (rule.paths.empty())
            error(rt, rkey + ".paths", "a rule needs the paths it holds for");
          else
            s.rules.push_back(std::move(rule));
        }
      } else if (ks == "hosts")
        append(s.hosts, strings(v, key));
      else if (ks == "processes") {
        for (const auto& p : strings(v, key))
          if (p.empty() || p.size() >= 108 || p.front() == ':')
            error(&v, key,
                  fmt::format("'{}' is not a program name (PROGRAM or PROGRAM:TEXT, "
                              "under 108 characters)",
                              p));
          else
            s.processes.push_back(p);
      } else if (ks == "requires")
        append(s.requires_, strings(v, key));
      else if (ks == "base-classes")
        append(s.base_classes, strings(v, key));
      else if (ks == "markers")
        append(s.markers, strings(v, key));
      else if (ks == "fixtures")
        append(s.fixtures, strings(v, key));
      else if (ks == "paths")
        append(s.paths, strings(v, key));
      else if (ks == "calls")
        append(s.calls, strings(v, key));
      else if (ks == "startup-seconds") {
        // TOML has inf and nan; neither is a start-up time the planner can add up.
        if (auto d = v.value<double>(); d && std::isfinite(*d) && *d >= 0 && *d <= 86400)
          s.startup_seconds = *d;
        else
          error(&v, key, "expected a number of seconds (0 to 86400)");
      } else if (ks == "ci") {
        if (auto* ci = v.as_table()) {
          for (const auto& [system, body] : *ci) {
            std::string skey = fmt::format("{}.{}", key, system.str());
            if (system.str() != "github" && system.str() != "gitlab")
              error(&body, skey, "unknown key (known: github, gitlab)");
            else if (const auto* bt = body.as_table())
              check_table(*bt, skey,
                          {{"image", Kind::kString},
                           {"ports", Kind::kStrings},
                           {"env", Kind::kTable},
                           {"variables", Kind::kTable},
                           {"options", Kind::kString},
                           {"credentials", Kind::kTable},
                           {"volumes", Kind::kStrings},
                           {"alias", Kind::kString},
                           {"command", Kind::kStrings},
                           {"entrypoint", Kind::kStrings}});
            else
              error(&body, skey, "expected a table");
          }
          s.ci = to_json(*ci);
        } else {
          error(&v, key, "expected a table");
        }
      } else {
        error(&v, key,
              "unknown key (known: ports, hosts, unix-sockets, processes, requires, "
              "startup-seconds, base-classes, markers, fixtures, paths, calls, rules, ci)");
      }
    }
  }

  enum class Kind { kString, kStrings, kStringOrStrings, kCount, kSeconds, kBool, kTable };
  struct KeySpec {
    const char* name;
    Kind kind;
  };

  // Checks every key of `t` against `specs`: an unknown key or a wrong type is one
  // diagnostic naming the full key, the type expected and the line.
  void check_table(const toml::table& t, const std::string& prefix,
                   std::initializer_list<KeySpec> specs) {
    for (const auto& [k, v] : t) {
      std::string key = fmt::format("{}.{}", prefix, k.str());
      const KeySpec* spec = nullptr;
      for (const auto& s : specs)
        if (k.str() == s.name) spec = &s;
      if (!spec) {
        std::string known;
        for (const auto& s : specs) known += (known.empty() ? "" : ", ") + std::string(s.name);
        error(&v, key, fmt::format("unknown key (known: {})", known));
        continue;
      }
      const toml::node& node = v;  // clang 14 lambdas cannot capture a structured binding
      auto all_strings = [&node] {
        const auto* a = node.as_array();
        return a && std::all_of(a->begin(), a->end(), [](const auto& x) { return x.is_string(); });
      };
      switch (spec->kind) {
        case Kind::kString:
          if (!v.is_string()) error(&v, key, "expected a string");
          break;
        case Kind::kStrings:
          if (!all_strings()) error(&v, key, "expected a list of strings");
          break;
        case Kind::kStringOrStrings:
          if (!v.is_string() && !all_strings())
            error(&v, key, "expected a string or a list of strings");
          break;
        case Kind::kCount:
          if (auto n = v.value_exact<int64_t>(); !n || *n < 0 || *n > 1'000'000)
            error(&v, key, "expected a whole number, 0 or more");
          break;
        case Kind::kSeconds:
          if (auto n = v.value<double>(); !n || !(*n >= 0) || *n > 86'400)
            error(&v, key, "expected seconds: a number from 0 to 86400");
          break;
        case Kind::kBool:
          if (!v.is_boolean()) error(&v, key, "expected true or false");
          break;
        case Kind::kTable:
          if (!v.is_table()) error(&v, key, "expected a table");
          break;
      }
    }
  }

  static void append(std::vector<std::string>& to, std::vector<std::string> from) {
    for (auto& s : from) to.push_back(std::move(s));
  }

  static nlohmann::json to_json(const toml::table& t) {
    std::ostringstream os;
    os << toml::json_formatter{t};
    return nlohmann::json::parse(os.str(), nullptr, false);
  }
};

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

std::vector<std::string> split_shell(const std::string& s) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < s.size() &&
               (s[i + 1] == '"' || s[i + 1] == '\\'))
        word += s[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      word += s[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) out.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(word));
  return out;
}

bool read_text(const std::string& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

void apply_pytest_args(const std::vector<std::string>& args, PytestOptions& p) {
  static const std::pair<const char*, std::vector<std::string> PytestOptions::*> kLists[] = {
      {"--ignore", &PytestOptions::ignore},
      {"--ignore-glob", &PytestOptions::ignore_glob},
      {"--deselect", &PytestOptions::deselect}};
  static const std::pair<const char*, std::string PytestOptions::*> kValues[] = {
      {"--confcutdir", &PytestOptions::confcutdir}, {"--import-mode", &PytestOptions::import_mode}};
  // `--name VALUE` or `--name=VALUE`: the value, advancing i past it.
  auto value_of = [&](size_t& i, std::string_view name) -> std::optional<std::string> {
    std::string_view a = args[i];
    if (a == name && i + 1 < args.size()) return args[++i];
    if (a.starts_with(name) && a.size() > name.size() && a[name.size()] == '=')
      return std::string(a.substr(name.size() + 1));
    return std::nullopt;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--pyargs") {
      p.pyargs = true;
      continue;
    }
    // -p NAME and -pNAME; "no:NAME" blocks a plugin.
    if (a.starts_with("-p") && !a.starts_with("--")) {
      std::string name = a.size() > 2 ? std::string(a.substr(2)) : "";
      if (name.empty() && i + 1 < args.size()) name = args[++i];
      if (name.starts_with("no:"))
        p.blocked_plugins.push_back(name.substr(3));
      else if (!name.empty())
        p.plugins.push_back(name);
      continue;
    }
    bool done = false;
    for (const auto& [name, field] : kLists)
      if (auto v = value_of(i, name)) {
        (p.*field).push_back(*v);
        done = true;
        break;
      }
    if (done) continue;
    for (const auto& [name, field] : kValues)
      if (auto v = value_of(i, name)) {
        p.*field = *v;
        break;
      }
  }
}

namespace {

void apply_ini(const IniSection& sec, PytestOptions& p) {
  auto get = [&](const char* key, std::vector<std::string>& to) {
    if (auto it = sec.find(key); it != sec.end()) to = split_ws(it->second.value);
  };
  get("testpaths", p.testpaths);
  get("python_files", p.python_files);
  get("python_classes", p.python_classes);
  get("python_functions", p.python_functions);
  get("pythonpath", p.pythonpath);
  get("norecursedirs", p.norecursedirs);
  if (auto it = sec.find("addopts"); it != sec.end())
    apply_pytest_args(split_shell(it->second.value), p);
}

void apply_toml_pytest(const toml::table& t, PytestOptions& p, Reader& r, const char* prefix) {
  auto get = [&](const char* key, std::vector<std::string>& to) {
    const toml::node* n = t.get(key);
    if (!n) return;
    if (auto s = n->value<std::string>())
      to = split_ws(*s);
    else
      to = r.strings(*n, fmt::format("{}.{}", prefix, key));
  };
  get("testpaths", p.testpaths);
  get("python_files", p.python_files);
  get("python_classes", p.python_classes);
  get("python_functions", p.python_functions);
  get("pythonpath", p.pythonpath);
  get("norecursedirs", p.norecursedirs);
  if (const toml::node* n = t.get("addopts")) {
    if (auto s = n->value<std::string>())
      apply_pytest_args(split_shell(*s), p);
    else
      apply_pytest_args(r.strings(*n, fmt::format("{}.addopts", prefix)), p);
  }
}

// pytest's order: pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg.
// pytest reads one file only: one found before pyproject.toml replaces what it said.
void load_pytest_ini_files(const fs::path& root, Config& cfg, bool pyproject_has_pytest) {
  std::string text;
  for (const char* name : {"pytest.toml", ".pytest.toml"}) {
    if (!read_text(root / name, &text)) continue;
    cfg.pytest = PytestOptions{};
    cfg.pytest.source = name;
    Reader r{name, &cfg.diagnostics};
    try {
      toml::table doc = toml::parse(text, (root / name).string());
      if (const auto* t = doc.get_as<toml::table>("pytest"))
        apply_toml_pytest(*t, cfg.pytest, r, "pytest");
    } catch (const toml::parse_error& e) {
      cfg.unusable = Diagnostic{name, static_cast<int>(e.source().begin.line), "",
                                fmt::format("not valid TOML: {}", e.description())}
                         .format();
    }
    return;
  }
  for (const char* name : {"pytest.ini", ".pytest.ini"}) {
    if (read_text(root / name, &text)) {
      cfg.pytest = PytestOptions{};
      IniFile ini = parse_ini(text);
      if (auto it = ini.find("pytest"); it != ini.end()) apply_ini(it->second, cfg.pytest);
      cfg.pytest.source = name;
      return;
    }
  }
  if (pyproject_has_pytest) return;
  if (read_text(root / "tox.ini", &text)) {
    IniFile ini = parse_ini(text);
    if (auto it = ini.find("pytest"); it != ini.end()) {
      apply_ini(it->second, cfg.pytest);
      cfg.pytest.source = "tox.ini";
      return;
    }
  }
  if (read_text(root / "setup.cfg", &text)) {
    IniFile ini = parse_ini(text);
    if (auto it = ini.find("tool:pytest"); it != ini.end()) {
      apply_ini(it->second, cfg.pytest);
      cfg.pytest.source = "setup.cfg";
    }
  }
}

Service& service_named(Config& cfg, const std::string& name) {
  for (auto& s : cfg.services)
    if (s.name == name) return s;
  cfg.services.push_back(Service{});
  cfg.services.back().name = name;
  return cfg.services.back();
}

// A table whose one key, `name`, is a list of strings: into *out. An empty table, or one
// with an error (said), leaves *out as it was (a monorepo project's, the repository's).
void one_list(const toml::node& v, const std::string& key, const char* name, Reader& r,
              std::vector<std::string>* out) {
  const auto* t = v.as_table();
  const auto* list = t ? t->get(name) : nullptr;
  if (!t || (t->size() != 0 && (t->size() != 1 || !list)))
    r.error(&v, key, fmt::format("expected a table with one key, {}", name));
  else if (list)
    *out = r.strings(*list, key + "." + name);
}

void load_testmap_table(const toml::table& tm, Config& cfg, Reader& r) {
  static const std::set<std::string_view> kKnown = {
      "services", "dynamic",    "tiers",       "presets", "exclude", "ci",
      "db",       "durations",  "projects",    "infer",   "django",  "service-files",
      "affected", "quarantine", "quarantined", "where",   "lint",    "envs"};
  for (const auto& [k, v] : tm) {
    std::string key = fmt::format("tool.testmap.{}", k.str());
    if (!kKnown.count(k.str())) {
      r.error(&v, key,
              "unknown key (known: services, dynamic, tiers, presets, exclude, ci, db, "
              "durations, projects, infer, django, service-files, affected, quarantine, "
              "quarantined, where, lint, envs)");
    } else if (k.str() == "projects") {
      cfg.projects.clear();
      for (std::string p : r.strings(v, key)) {
        while (p.ends_with("/")) p.pop_back();
        std::error_code ec;
        if (p.empty() || p.starts_with("/") || p.find("..") != std::string::npos ||
            !fs::is_directory(fs::path(cfg.root) / p, ec))
          r.error(&v, key, fmt::format("'{}' is not a directory under the root", p));
        else
          cfg.projects.push_back(p);
      }
    } else if (k.str() == "durations") {
      if (auto b = v.value_exact<bool>())
        cfg.durations = *b;
      else
        r.error(&v, key, "expected true or false");
    } else if (k.str() == "quarantine") {
      auto mode = v.value_exact<std::string>();
      if (mode && (*mode == "report" || *mode == "rerun" || *mode == "skip"))
        cfg.quarantine = *mode;
      else
        r.error(&v, key, "expected \"report\", \"rerun\" or \"skip\"");
    } else if (k.str() == "lint") {
      load_lint_table(v, r.file, cfg.lint, *r.diags);
    } else if (k.str() == "where") {
      // docs/where.md: ordered [source, test] pattern pairs.
      const auto* t = v.as_table();
      const auto* rules = t ? t->get("rules") : nullptr;
      if (!t || (t->size() != 0 && (t->size() != 1 || !rules))) {
        r.error(&v, key, "expected a table with one key, rules");
      } else if (rules) {
        const auto* list = rules->as_array();
        if (!list) r.error(rules, key + ".rules", "expected a list of [source, test] pairs");
        for (size_t i = 0; list && i < list->size(); ++i) {
          const auto* pair = list->get(i)->as_array();
          auto source =
              pair && pair->size() == 2 ? pair->get(0)->value<std::string>() : std::nullopt;
          auto test = pair && pair->size() == 2 ? pair->get(1)->value<std::string>() : std::nullopt;
          std::string where = fmt::format("{}.rules[{}]", key, i);
          if (!source || !test) {
            r.error(list->get(i), where, "expected a [source, test] pair of patterns");
            continue;
          }
          std::string bad = where::check_pattern(*source);
          if (bad.empty()) bad = where::check_pattern(*test);
          if (bad.empty()) bad = where::check_pair(*source, *test);
          if (!bad.empty())
            r.error(list->get(i), where, bad);
          else
            cfg.where_rules.emplace_back(*source, *test);
        }
      }
    } else if (k.str() == "quarantined") {
      cfg.quarantined = r.strings(v, key);
    } else if (k.str() == "service-files") {
      if (auto b = v.value_exact<bool>())
        cfg.service_files = *b;
      else
        r.error(&v, key, "expected true or false");
    } else if (k.str() == "infer") {
      if (auto b = v.value_exact<bool>())
        cfg.infer = *b;
      else
        r.error(&v, key, "expected true or false");
    } else if (k.str() == "django") {
      // [tool.testmap.django] databases = { timeseries = "timescale" }: the service behind
      // each database alias a test names (checked once every service is known).
      const auto* t = v.as_table();
      const auto* dbs = t ? t->get("databases") : nullptr;
      if (!t || (t->size() != 0 && (t->size() != 1 || !dbs))) {
        r.error(&v, key, "expected a table with one key, databases");
      } else if (dbs && !dbs->is_table()) {
        r.error(dbs, key + ".databases", "expected a table of alias = \"service\"");
      } else if (dbs) {
        for (const auto& [alias, service] : *dbs->as_table()) {
          if (auto name = service.value<std::string>())
            cfg.django_databases[std::string(alias.str())] = *name;
          else
            r.error(&service, fmt::format("{}.databases.{}", key, alias.str()),
                    "expected a service name");
        }
      }
    } else if (k.str() == "db") {
      if (const auto* t = v.as_table()) {
        // docs/db.md says what each means; the plugin refuses to run while one is wrong.
        r.check_table(*t, key,
                      {{"alembic-config", Reader::Kind::kString},
                       {"alembic-head", Reader::Kind::kString},
                       {"build", Reader::Kind::kString},
                       {"cache", Reader::Kind::kString},
                       {"redis-db-env", Reader::Kind::kString},
                       {"redis-db-offset", Reader::Kind::kCount},
                       {"schema-files", Reader::Kind::kStringOrStrings},
                       {"url", Reader::Kind::kString},
                       {"url-env", Reader::Kind::kString}});
        cfg.db = Reader::to_json(*t);
        // One default for the plugin's schema hash and the CI cache key alike.
        if (!cfg.db.contains("schema-files")) {
          // A `build` of the wrong type is reported above; it is no alembic build.
          auto build = cfg.db.find("build");
          if (build != cfg.db.end() && build->is_string() && *build == "alembic")
            cfg.db["schema-files"] = {"alembic.ini", "**/alembic/**", "**/migrations/**",
                                      "**/models.py"};
          else
            cfg.db["schema-files"] = {"**/migrations/**", "**/models.py"};
        }
      } else {
        r.error(&v, key, "expected a table");
      }
    } else if (k.str() == "affected") {
      // docs/affected.md: files whose change makes --testmap-affected run everything.
      one_list(v, key, "run-all-when", r, &cfg.run_all_when);
    } else if (k.str() == "envs") {
      // docs/envs.md: programs and modules that testmap cannot tell run no tests.
      one_list(v, key, "runs-no-tests", r, &cfg.runs_no_tests);
    } else if (k.str() == "ci") {
      if (const auto* t = v.as_table()) {
        // docs/ci.md; `testmap ci` refuses to write a file while one is wrong.
        r.check_table(*t, key,
                      {{"python-version", Reader::Kind::kString},
                       {"runs-on", Reader::Kind::kString},
                       {"image", Reader::Kind::kString},
                       {"install", Reader::Kind::kStrings},
                       {"job-overhead-seconds", Reader::Kind::kSeconds}});
        cfg.ci = Reader::to_json(*t);
      } else {
        r.error(&v, key, "expected a table");
      }
    } else if (k.str() == "presets") {
      cfg.presets = r.strings(v, key);
      for (const auto& p : cfg.presets)
        if (!is_known_preset(p))
          r.error(&v, key, fmt::format("unknown preset '{}' (known: django)", p));
    } else if (k.str() == "exclude") {
      cfg.exclude = r.strings(v, key);
    }
  }
  for (const auto& p : cfg.presets) apply_preset(p, cfg);
  if (const auto* services = tm.get("services")) {
    if (const auto* st = services->as_table()) {
      for (const auto& [name, body] : *st) {
        std::string sname(name.str());
        if (const auto* bt = body.as_table())
          r.service(sname, *bt, service_named(cfg, sname));
        else
          r.error(&body, "tool.testmap.services." + sname, "expected a table");
      }
      // Checked once every service is known: one may require a service declared after it.
      for (const auto& [name, body] : *st) {
        const auto* req = body.is_table() ? body.as_table()->get("requires") : nullptr;
        const Service* svc = cfg.service(std::string(name.str()));
        if (!req || !svc) continue;
        for (const auto& n : svc->requires_)
          if (!cfg.service(n) || n == svc->name)
            r.error(req, fmt::format("tool.testmap.services.{}.requires", name.str()),
                    n == svc->name ? "a service cannot require itself"
                                   : fmt::format("unknown service '{}'", n));
      }
    } else {
      r.error(services, "tool.testmap.services", "expected a table of services");
    }
  }
  // Every service is known now: a database alias must name one.
  if (const auto* dbs = tm.at_path("django.databases").as_table())
    for (const auto& [alias, service] : *dbs)
      if (auto name = service.value<std::string>(); name && !cfg.service(*name)) {
        r.error(&service, fmt::format("tool.testmap.django.databases.{}", alias.str()),
                fmt::format("unknown service '{}'", *name));
        cfg.django_databases.erase(std::string(alias.str()));
      }
  if (const auto* dyn = tm.get("dynamic")) {
    if (const auto* dt = dyn->as_table()) {
      for (const auto& [k, v] : *dt) {
        std::string key = fmt::format("tool.testmap.dynamic.{}", k.str());
        if (k.str() == "calls")
          cfg.dynamic.calls = r.strings(v, key);
        else if (k.str() == "fixtures")
          cfg.dynamic.fixtures = r.strings(v, key);
        else if (k.str() == "markers")
          cfg.dynamic.markers = r.strings(v, key);
        else
          r.error(&v, key, "unknown key (known: calls, fixtures, markers)");
      }
    } else {
      r.error(dyn, "tool.testmap.dynamic", "expected a table");
    }
  }
  if (const auto* tiers = tm.get("tiers")) {
    if (const auto* tt = tiers->as_table()) {
      for (const auto& [k, v] : *tt) {
        std::string key = fmt::format("tool.testmap.tiers.{}", k.str());
        auto names = r.strings(v, key);
        for (const auto& n : names)
          if (!cfg.service(n)) r.error(&v, key, fmt::format("unknown service '{}'", n));
        cfg.tiers.emplace_back(std::string(k.str()), names);
      }
    } else {
      r.error(tiers, "tool.testmap.tiers", "expected a table of tier = [services]");
    }
  }
  // Skipping hides failures: only of tests someone named, never of every flaky one.
  if (cfg.quarantine == "skip" && cfg.quarantined.empty() && tm.contains("quarantine"))
    r.error(tm.get("quarantine"), "tool.testmap.quarantine",
            "\"skip\" skips only the flaky tests named in tool.testmap.quarantined, and it "
            "names none");
}

}  // namespace

const Service* Config::service(const std::string& name) const {
  for (const auto& s : services)
    if (s.name == name) return &s;
  return nullptr;
}

// A project of a monorepo: the nearest pyproject.toml above `root` whose
// [tool.testmap] projects lists it gives the config this project's own extends.
static void inherit_repository_config(const fs::path& root, Config& cfg) {
  std::error_code ec;
  for (fs::path dir = root.parent_path(); dir != dir.parent_path(); dir = dir.parent_path()) {
    std::string text;
    if (!read_text(dir / "pyproject.toml", &text)) continue;
    try {
      toml::table doc = toml::parse(text, (dir / "pyproject.toml").string());
      const toml::table* tm = doc.at_path("tool.testmap").as_table();
      const toml::array* projects = tm ? tm->get_as<toml::array>("projects") : nullptr;
      if (!projects) continue;
      std::string rel = root.lexically_relative(dir).generic_string();
      bool listed = false;
      for (const auto& p : *projects)
        if (auto s = p.value<std::string>()) {
          std::string name = *s;
          while (name.ends_with("/")) name.pop_back();
          listed |= name == rel;
        }
      if (!listed) continue;
      std::string file = (dir / "pyproject.toml").lexically_relative(root).generic_string();
      Reader r{file, &cfg.diagnostics};
      toml::table inherited = *tm;
      inherited.erase("projects");
      std::string own_root = cfg.root;
      cfg.root = dir.string();  // paths in the repository's table are its own
      load_testmap_table(inherited, cfg, r);
      cfg.root = own_root;
      cfg.inherited_from = file;
      return;
    } catch (const toml::parse_error&) {
      continue;  // that file's own commands say what is wrong with it
    }
  }
}

// --pyargs: a testpath that is no path but a dotted module name is the package's (or
// module's) directory or file, found under the root, src/ or the pythonpath entries, as
// importing it from the root would.
static void resolve_pyargs(const fs::path& root, PytestOptions& p) {
  std::error_code ec;
  std::vector<fs::path> bases{root, root / "src"};
  for (const auto& extra : p.pythonpath) bases.push_back(root / extra);
  for (auto& tp : p.testpaths) {
    if (fs::exists(root / tp, ec) || tp.find('/') != std::string::npos) continue;
    std::string rel = tp;
    std::replace(rel.begin(), rel.end(), '.', '/');
    for (const auto& base : bases) {
      if (fs::is_directory(base / rel, ec)) {
        tp = (base / rel).lexically_relative(root).generic_string();
        break;
      }
      if (fs::is_regular_file(base / (rel + ".py"), ec)) {
        tp = (base / (rel + ".py")).lexically_relative(root).generic_string();
        break;
      }
    }
  }
}

// The ports compose and CI files publish become their services' ports, for the run-time
// naming of connections (docker's proxy, or its NAT rule, names no program): a built-in
// service keeps its defaults and gains these; a service the files name and testmap does
// not know (a `search` container of the project's own image) becomes one.
static void apply_service_files(Config& cfg) {
  FileServices found = read_service_files(cfg.root);
  cfg.file_services = found.services;
  if (!cfg.service_files) return;
  for (auto& d : found.notes) cfg.diagnostics.push_back(std::move(d));
  for (const auto& fsvc : found.services) {
    if (fsvc.ports.empty()) continue;
    Service* s = nullptr;
    for (auto& c : cfg.services)
      if (c.name == fsvc.name) s = &c;
    if (s && s->ports_configured) continue;  // the config says which ports it has
    for (int port : fsvc.ports) {
      const Service* owner = nullptr;
      for (const auto& c : cfg.services)
        if (c.hosts.empty() && std::find(c.ports.begin(), c.ports.end(), port) != c.ports.end())
          owner = &c;
      if (owner && owner->name == fsvc.name) continue;
      if (owner) {
        cfg.diagnostics.push_back(
            {fsvc.file, fsvc.line, fsvc.key,
             fmt::format("publishes port {} for {}, but port {} is {}'s; set the ports of "
                         "[tool.testmap.services.{}] to choose",
                         port, fsvc.name, port, owner->name, fsvc.name)});
        continue;
      }
      if (!s) {
        cfg.services.push_back(Service{.name = fsvc.name});
        s = &cfg.services.back();
      }
      s->ports.push_back(port);
    }
  }
}

Config load_config(const std::string& root_arg) {
  Config cfg;
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(root_arg), ec);
  cfg.root = root.string();
  add_builtin_services(cfg);
  Reader r{"pyproject.toml", &cfg.diagnostics};
  bool pyproject_has_pytest = false;
  std::string text;
  if (fs::exists(root / "pyproject.toml", ec) && !read_text(root / "pyproject.toml", &text)) {
    cfg.unusable = fmt::format("pyproject.toml: cannot read it: {}", std::strerror(errno));
    return cfg;
  }
  inherit_repository_config(root, cfg);
  if (!text.empty()) {
    try {
      toml::table doc = toml::parse(text, (root / "pyproject.toml").string());
      if (const auto* tool = doc.get_as<toml::table>("tool")) {
        if (const auto* tm = tool->get("testmap")) {
          if (const auto* tt = tm->as_table())
            load_testmap_table(*tt, cfg, r);
          else
            r.error(tm, "tool.testmap", "expected a table");
        }
        if (const auto* pytest = tool->get_as<toml::table>("pytest")) {
          if (const auto* ini = pytest->get_as<toml::table>("ini_options")) {
            apply_toml_pytest(*ini, cfg.pytest, r, "tool.pytest.ini_options");
            pyproject_has_pytest = true;
          } else {
            apply_toml_pytest(*pytest, cfg.pytest, r, "tool.pytest");
            pyproject_has_pytest = true;
          }
          cfg.pytest.source = "pyproject.toml";
        }
      }
    } catch (const toml::parse_error& e) {
      // Defaults in place of the user's services would reclassify the suite (tests that
      // need postgres become no_services) and overwrite the store: refuse instead.
      cfg.unusable = Diagnostic{"pyproject.toml", static_cast<int>(e.source().begin.line), "",
                                fmt::format("not valid TOML: {}", e.description())}
                         .format();
    }
  }
  load_pytest_ini_files(root, cfg, pyproject_has_pytest);
  // pytest adds $PYTEST_ADDOPTS after the ini file's addopts.
  if (const char* env = std::getenv("PYTEST_ADDOPTS"))
    apply_pytest_args(split_shell(env), cfg.pytest);
  // Collection compares root-relative paths: an absolute path under the root becomes
  // relative, "a/../b" becomes "b"; one outside the root can match nothing here.
  for (auto* list : {&cfg.pytest.ignore, &cfg.pytest.ignore_glob})
    for (auto& entry : *list) {
      fs::path e(entry);
      if (e.is_absolute()) {
        fs::path rel = e.lexically_normal().lexically_relative(root);
        entry = rel.empty() || *rel.begin() == ".." ? "" : rel.generic_string();
      } else if (!entry.empty()) {
        entry = e.lexically_normal().generic_string();
      }
    }
  // --confcutdir the same way; one above the root loads nothing more here (testmap reads
  // no file above the root), so it counts as the root.
  if (std::string& cut = cfg.pytest.confcutdir; !cut.empty()) {
    fs::path c = fs::path(cut).is_absolute()
                     ? fs::path(cut).lexically_normal().lexically_relative(root)
                     : fs::path(cut).lexically_normal();
    cut = c.empty() || *c.begin() == ".." || c == "." ? "" : c.generic_string();
  }
  if (cfg.pytest.pyargs) resolve_pyargs(root, cfg.pytest);
  apply_service_files(cfg);
  return cfg;
}

std::string refusal(const Config& cfg, std::string_view prefix) {
  if (!cfg.unusable.empty()) return cfg.unusable;
  for (const auto& d : cfg.diagnostics)
    if (d.key.starts_with(prefix)) return d.format();
  return "";
}

}  // namespace testmap::config
