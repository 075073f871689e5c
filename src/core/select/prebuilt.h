// Objects a test used but did not build (a cache an earlier test filled, a module-level
// instance): their state comes from code that ran before the test, which its recording
// does not hold. jinja2 keeps its lexers in a module-level LRUCache: most tests take a
// lexer built by an earlier one and never run `Lexer.__init__` or `compile_rules`.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/classify/project.h"
#include "core/classify/resolver.h"
#include "core/store/store.h"

namespace testmap::select {

class Prebuilt {
 public:
  // `changed(unit)`: whether a recorded unit changed since it was recorded.
  Prebuilt(const classify::Project& project, classify::Resolver& resolver,
           const store::DepsSnapshot& snap,
           const std::function<bool(const store::TestDeps::Unit&)>& changed);

  // Why `test` may see a change through an object it did not build, or "" when it cannot:
  // it used class C (a unit "C" of its recording) while a method of C that ran in some
  // recorded test changed, or a function of C's module such a method calls, and it ran no
  // `__init__` of C's lineage, or one ran at import (a module-level instance, such as
  // jinja2's lexer cache, which a test that builds caches of its own also uses). A class
  // whose lineage defines no `__init__` in the repository gives "": nothing tells an
  // instance built in the test from an older one.
  std::string why(const store::TestDeps& test);

 private:
  const std::vector<std::string>& constructors(const std::string& class_key);

  const classify::Project& project_;
  classify::Resolver& resolver_;
  const store::DepsSnapshot& snap_;
  // "file::Class" -> the changed unit, "file::name"
  std::unordered_map<std::string, std::string> stale_;
  // "file::Class" -> the `__init__` units of it and its ancestors, as "file::Class.__init__"
  std::unordered_map<std::string, std::vector<std::string>> constructors_;
};

}  // namespace testmap::select
