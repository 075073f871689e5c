// Name resolution across the repository: what a dotted name in a module refers to
// (a class or function in the repo, a module, or something outside the repo),
// following imports, re-exports through __init__.py, aliases and star imports.
#pragma once

#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/classify/project.h"

namespace testmap::classify {

struct Symbol {
  enum Kind { kNone, kClass, kFunction, kModule, kExternal } kind = kNone;
  int file = -1;
  int index = -1;      // class or function index in the file's outline
  std::string name;    // module name (kModule) or qualified name (kExternal)
  bool cycle = false;  // kNone because imports loop
};

// A class with everything inherited: repo ancestors in MRO-like order (itself first),
// the qualified names of ancestors outside the repo, and bases that could not be resolved.
struct Ancestry {
  std::vector<std::pair<int, int>> classes;  // (file, class index)
  std::vector<std::string> externals;
  std::vector<Diagnostic> unresolved;
};

class Resolver {
 public:
  explicit Resolver(const Project& project) : project_(project) {}

  // Resolves `dotted` as written in module `file` (module-level namespace).
  Symbol resolve(int file, const std::string& dotted);
  // Resolves a fully qualified name such as "shop.testing.cases.DatabaseTestCase".
  Symbol resolve_qualified(const std::string& dotted);
  // `dotted` with its first segment replaced by what it is imported as:
  // `mark.django_db` after `from pytest import mark` -> "pytest.mark.django_db".
  std::string qualify(int file, const std::string& dotted);

  const Ancestry& ancestry(int file, int cls);
  // Module-level names bound to classes, own or imported, in binding order: what
  // pytest sees when it walks a test module's namespace.
  std::vector<std::pair<std::string, Symbol>> class_bindings(int file);

 private:
  struct Binding {
    enum Kind { kClass, kFunction, kModule, kFrom, kAlias } kind;
    int index = -1;
    std::string module;  // kModule: the module bound; kFrom: the module imported from
    std::string name;    // kFrom: the imported name; kAlias: the dotted name assigned
    int line = 0;        // kFrom, kAlias: where the binding is made
  };
  struct Namespace {
    std::unordered_map<std::string, Binding> names;
    std::vector<std::string> star_modules;
  };

  const Namespace& ns(int file);
  std::string absolute_module(int file, const std::string& module, int level) const;
  Symbol in_module(const std::string& module, const std::string& rest, int depth);
  Symbol lookup(int file, const std::string& dotted, int depth);
  Symbol from_binding(int file, const Binding& b, int depth);
  Symbol descend(Symbol s, const std::string& rest, int depth);

  const Project& project_;
  std::unordered_map<int, Namespace> namespaces_;
  std::unordered_map<long long, Ancestry> ancestry_;
  std::unordered_map<long long, bool> in_progress_;
  std::deque<Ancestry> cycles_;
};

}  // namespace testmap::classify
