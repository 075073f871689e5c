// Which tests each tox environment runs, the services they need, and the environments
// grouped into CI jobs (docs/envs.md).
#pragma once

#include <string>
#include <vector>

#include "core/envs/commands.h"
#include "core/envs/tox.h"

namespace testmap::envs {

// What one environment runs.
struct EnvTests {
  Env env;
  bool runs_pytest = false;           // a command runs pytest, or may run tests
  std::string unread;                 // a command testmap cannot read: every test and service
  std::vector<std::string> paths;     // the paths it gives pytest, from the root; empty: all
  size_t tests = 0;                   // the test map's tests under them
  size_t unknown = 0;                 // of which the map cannot place (they need everything)
  std::vector<std::string> services;  // what those tests need, sorted
};

struct Group {
  std::string name;
  std::vector<EnvTests> envs;         // in the envlist's order
  std::vector<std::string> pythons;   // each version once, in first-use order
  std::vector<std::string> services;  // the union of its environments', sorted
  double seconds = 0;                 // balanced (--max-jobs): the job's estimated wall clock
  // Groups holding environments that this group's environments `depends` on: its job runs
  // after theirs (tox orders environments only within one run).
  std::vector<std::string> after;
};

// The environments a `depends` entry names: exact names, or glob patterns (`py3*`).
bool depends_on(const Env& e, const std::string& other);

// Sets each group's `after` from its environments' depends. False with *error when the
// groups would wait for each other (a cycle).
bool link_after(std::vector<Group>* groups, std::string* error);

// For a person, one line per group that runs after others: which, and that the files they
// leave (coverage data) do not reach it unless their jobs upload them.
std::vector<std::string> after_notes(const std::vector<Group>& groups);

// Reads the environments at `root`: `tool` "tox" (tox's configuration), "nox" (nox's
// sessions), or "" for tox's when there is one, else nox's.
bool read_envs(const std::string& root, const std::string& tool, ToxConfig* out, Diagnostic* error);

// Reads the environments (read_envs), finds each one's tests and services from the test map
// (recorded runs merged), and groups them; a group whose environments depend on another's
// runs after it (link_after), and an environment that would make two groups wait for each
// other gets a group of its own; *used says whose they were (tox or nox). False
// with *error (one line).
bool plan_envs(const std::string& root, const std::string& tool, const std::string& by,
               std::vector<Group>* out, std::string* error, std::string* used = nullptr);

}  // namespace testmap::envs
