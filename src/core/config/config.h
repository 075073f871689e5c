// The configuration testmap works from: `[tool.testmap]` in pyproject.toml, the
// pytest discovery options, the built-in services and presets (docs/config.md).
// A broken key becomes a diagnostic and its default applies; a file that cannot be read
// at all (not valid TOML) sets `unusable`, and commands refuse to run on defaults.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/lint_rules.h"
#include "core/config/service_files.h"
#include "core/util/diagnostic.h"

namespace testmap::config {

// Rules of a service that hold only for tests in files matching `paths` (a call that
// means Redis in one app and something else in another).
struct ScopedRule {
  std::vector<std::string> paths;
  std::vector<std::string> markers;
  std::vector<std::string> fixtures;
  std::vector<std::string> calls;
};

struct Service {
  std::string name;
  std::vector<int> ports;
  bool ports_configured = false;  // `ports` given in the config: compose files add none
  std::vector<std::string> unix_sockets;
  // Programs that are this service when one listens on a local address a test connects
  // to ("redis-server"; "java:kafka.Kafka" for a program with that text in its arguments).
  std::vector<std::string> processes;
  // Hosts (names or addresses) this service is reached at; with them, its ports count for
  // those hosts only: two services on one port on different hosts.
  std::vector<std::string> hosts;
  std::vector<std::string> requires_;  // needed with it: in its tier, CI job and enforcement
  double startup_seconds = 0;
  std::vector<std::string> base_classes;
  std::vector<std::string> markers;
  std::vector<std::string> fixtures;
  std::vector<std::string> paths;
  std::vector<std::string> calls;
  std::vector<ScopedRule> rules;  // [[tool.testmap.services.NAME.rules]]
  nlohmann::json ci;              // the `ci` table as given, for the CI generators
};

struct DynamicRules {
  std::vector<std::string> calls;
  std::vector<std::string> fixtures;
  std::vector<std::string> markers;
};

// What pytest reads to find tests.
struct PytestOptions {
  std::string source;  // the file these came from, empty for pytest's defaults
  std::vector<std::string> testpaths;
  std::vector<std::string> python_files{"test_*.py", "*_test.py"};
  std::vector<std::string> python_classes{"Test"};
  std::vector<std::string> python_functions{"test"};
  std::vector<std::string> pythonpath;
  std::vector<std::string> norecursedirs{"*.egg", ".*",           "_darcs", "build", "CVS",
                                         "dist",  "node_modules", "venv",   "{arch}"};
  // From addopts and $PYTEST_ADDOPTS, as pytest applies them to collection.
  std::vector<std::string> ignore;       // --ignore: paths relative to the root
  std::vector<std::string> ignore_glob;  // --ignore-glob: fnmatch patterns over the path
  std::vector<std::string> deselect;     // --deselect: node id prefixes
  // --confcutdir (relative to the root): conftest.py files outside it are not loaded.
  // Empty: the root, where pytest's default (the inifile's directory) puts it.
  std::string confcutdir;
  std::vector<std::string> plugins;          // -p NAME: plugin modules loaded at start
  std::vector<std::string> blocked_plugins;  // -p no:NAME
  std::string import_mode = "prepend";       // --import-mode
  bool pyargs = false;                       // --pyargs: testpaths may name packages
};

// Reads the collection options of pytest's command line (--ignore, --ignore-glob,
// --deselect, --confcutdir, -p, --import-mode, --pyargs, in every spelling pytest takes)
// from `args`, split as a shell would split addopts.
void apply_pytest_args(const std::vector<std::string>& args, PytestOptions& p);

// The whole file at `path`; false when it cannot be read.
bool read_text(const std::string& path, std::string* out);

// addopts as pytest splits it (shlex: quotes and backslashes).
std::vector<std::string> split_shell(const std::string& s);

struct Config {
  std::string root;               // absolute
  std::vector<Service> services;  // built-ins first, then the user's, in file order
  DynamicRules dynamic;
  std::vector<std::pair<std::string, std::vector<std::string>>> tiers;
  std::vector<std::string> presets;
  std::vector<std::string> exclude;
  nlohmann::json ci = nlohmann::json::object();  // [tool.testmap.ci], for `testmap ci`
  nlohmann::json db = nlohmann::json::object();  // [tool.testmap.db], for --testmap-db
  bool durations = false;  // [tool.testmap] durations: every pytest run stores durations
  // [tool.testmap] quarantine: what a run does with a known flaky test (docs/flaky.md):
  // report, rerun (its failure once), or skip (only the tests named in `quarantined`).
  std::string quarantine = "report";
  std::vector<std::string> quarantined;
  // [tool.testmap.where] rules: (source pattern, test pattern) pairs, in order; empty for
  // the default (core/where/mirror.h, docs/where.md).
  std::vector<std::pair<std::string, std::string>> where_rules;
  LintRules lint;  // [tool.testmap.lint], for `testmap lint` (docs/lint.md)
  // [tool.testmap] infer: a marker, fixture or base class whose name names a built-in
  // service (`redis_db`) needs it, when no rule says otherwise.
  bool infer = true;
  // [tool.testmap.django] databases: the service behind each Django database alias that
  // a test class's `databases` or django_db(databases=...) names.
  std::map<std::string, std::string> django_databases{{"default", "postgres"}};
  // [tool.testmap] service-files: the ports compose and CI files publish name their
  // services at run time (a service whose `ports` the config gives keeps those).
  bool service_files = true;
  std::vector<FileService> file_services;  // what those files declare, read or not
  // [tool.testmap.affected] run-all-when: globs of root-relative files whose change runs
  // every test under --testmap-affected (a settings module, a schema dump, Docker files).
  std::vector<std::string> run_all_when;
  // [tool.testmap.envs] runs-no-tests: programs (`openssl`) and `python -m` modules
  // (`OpenSSL.debug`) that run no tests, beyond those testmap knows (docs/envs.md).
  std::vector<std::string> runs_no_tests;
  // A monorepo: the pytest projects under this root, each with its own pytest settings
  // (root-relative directories). A project's own config extends this root's.
  std::vector<std::string> projects;
  std::string inherited_from;  // the repository's pyproject.toml this project extends, or ""
  PytestOptions pytest;
  Diagnostics diagnostics;  // problems in the config files; the rest still applies
  std::string unusable;     // set when a config file cannot be read: one line, with file:line

  const Service* service(const std::string& name) const;
};

// Loads the configuration for the repository at `root`.
Config load_config(const std::string& root);

// Why a feature configured under `prefix` ("tool.testmap.where") must not run on this
// config, in one line: the config cannot be read, or a key under the prefix is wrong. ""
// when it may.
std::string refusal(const Config& cfg, std::string_view prefix);

}  // namespace testmap::config
