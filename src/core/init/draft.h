// What `testmap init` found in a repository, before it is written as TOML: each service
// with the rules and ports that would name it and where each came from, and what it could
// not decide (docs/init.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/classify/result.h"
#include "core/config/config.h"
#include "core/store/store.h"

namespace testmap::init {

struct Rule {
  std::string kind;  // "markers", "fixtures", "base-classes", "paths", "calls"
  std::string name;
  size_t tests = 0;  // tests it gives the service to
  std::string why;   // "inferred from its name", "a recorded run: used in setup"
};

struct ServiceDraft {
  std::string name;
  bool configured = false;  // pyproject.toml already has [tool.testmap.services.NAME]
  std::vector<int> ports;   // to write: the built-in ones and those the files publish
  std::vector<std::string> processes;
  std::vector<Rule> rules;
  std::vector<std::string> notes;  // comment lines: where the service was seen
  size_t tests = 0;                // tests the source gives it (with these rules)
  size_t recorded_tests = 0;       // tests a recorded run saw use it
};

struct Draft {
  std::vector<std::string> presets;
  std::vector<std::string> preset_notes;
  std::map<std::string, std::string> django_databases;  // written when not the default
  std::vector<ServiceDraft> services;                   // in the order found
  std::vector<std::string> questions;                   // what a person must decide
  size_t tests = 0;
  size_t recorded = 0;             // tests with a recorded run
  bool has_testmap_table = false;  // pyproject.toml already has [tool.testmap] keys
};

// Builds the draft from the repository's config (which still infers and reads compose
// and CI files), its classification and, when given, what recorded runs saw: the services
// each test used and (`deps`, from a run with --deps) the functions it ran.
Draft make_draft(const config::Config& cfg, const classify::Classification& c,
                 const classify::RuntimeUses* runtime, const store::DepsSnapshot* deps = nullptr);

}  // namespace testmap::init
