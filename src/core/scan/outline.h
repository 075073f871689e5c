// The outline of one Python file: what classification and selection need to know
// about it, without a syntax tree. docs/outline.md is the contract.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace testmap::scan {

// An expression reduced to what the classifier reads (docs/outline.md, "reduced").
struct Reduced {
  std::string text;    // the reduced text, "…" when not representable
  std::string callee;  // for calls and plain dotted names: the dotted name; else empty
  bool is_call = false;
  std::vector<std::string> args;                            // reduced positional arguments
  std::vector<std::pair<std::string, std::string>> kwargs;  // key, reduced value ("" key for **x)
  // Not in the JSON outline: per positional argument, the values of a list or tuple of
  // plain strings (`parametrize(("a", "b"), ...)`); empty for any other argument.
  std::vector<std::vector<std::string>> arg_strings;
  // Not in the JSON outline: per keyword argument (as `kwargs`, up to the last one that
  // has any), the strings it spells (reduce.h, string_values); kept for `databases=` only.
  std::vector<std::vector<std::string>> kwarg_strings;
};

struct Import {
  std::string module;  // dotted, without the leading dots of a relative import
  std::string name;    // from-import name, "*", or empty for `import a.b`
  std::string asname;  // empty when not aliased
  int level = 0;       // number of leading dots
  int line = 0;
  int col = 0;               // not in the JSON outline: byte offset of `import`/`from`
  bool in_function = false;  // inside a def: not part of the module namespace
  // Not in the JSON outline: in the body of `if TYPE_CHECKING:`, which never runs.
  bool type_checking = false;
  bool has_name() const { return !name.empty(); }
};

struct Class {
  std::string name;
  std::string qualname;
  int parent = -1;  // index of the enclosing class in Outline::classes, -1 if none
  bool in_function = false;
  std::vector<Reduced> bases;
  std::vector<std::string> keywords;
  std::vector<Reduced> decorators;
  int line = 0, end_line = 0;
  int col = 0;  // not in the JSON outline: byte offset of `class`
  uint64_t hash = 0;
  // Not in the JSON outline: the hash of the class's own lines (its header, attributes and
  // statements), without its methods' and nested classes' bodies.
  uint64_t own_hash = 0;
  // Not in the JSON outline: the names its own lines read (attribute values, decorators and
  // defaults of its methods), sorted and unique: they run when the module is imported.
  std::vector<std::string> import_time_names;
  // Not in the JSON outline: `__test__ = True/False` in the body; -1 when not set.
  int dunder_test = -1;
};

struct Function {
  std::string name;
  std::string qualname;
  int parent_class = -1;  // index in Outline::classes when directly in a class body
  bool in_function = false;
  bool is_async = false;
  std::vector<std::string> params;  // "*args" and "**kw" keep their stars
  int defaults = 0;                 // positional parameters with a default
  std::vector<Reduced> decorators;
  std::vector<std::string> calls;  // sorted, unique
  // Not in the JSON outline: methods called on a call's result, `C().index_document(`
  // gives "index_document". The classifier's call rules read these too.
  std::vector<std::string> attr_calls;
  int line = 0, end_line = 0;
  uint64_t hash = 0;
};

struct Assignment {
  std::string target;  // pytestmark, pytest_plugins, collect_ignore(_glob), databases
  std::string scope;   // "" for module level, else the class's qualname
  int class_index = -1;
  std::vector<Reduced> values;
  int line = 0;
  std::vector<std::string> strings;  // not in the JSON outline: string_values of the value
};

// Not in the JSON outline: `Name = dotted.name` at module level (`TestCase =
// unittest.TestCase`), so a base written through the alias resolves like an import.
struct Alias {
  std::string name;
  std::string dotted;
  int line = 0;
};

// Not in the JSON outline, and only with ScanOptions::call_sites (testmap lint): the
// context managers of `with` statements, and each call with where it is and which of
// those `with` blocks (of its own function or scope) it runs inside.
struct WithItem {
  std::string name;  // the dotted callee (`silo_mode` in `with silo_mode(...) as m:`), or ""
  int line = 0, col = 0;
};
struct CallSite {
  std::string name;  // the dotted callee as written: "self.create_user", "User.objects.create"
  int line = 0, col = 0;
  int function = -1;       // the innermost enclosing function (Outline::functions), or -1
  std::vector<int> withs;  // indexes into Outline::withs, outermost first
};

struct Outline {
  std::string path;
  std::vector<Import> imports;
  std::vector<Class> classes;
  std::vector<Function> functions;
  std::vector<Assignment> assignments;
  std::vector<Alias> aliases;
  // Not in the JSON outline: the hash of the module's own top-level statements (imports,
  // calls, blocks), without its functions' and classes' bodies and headers, and without
  // the simple bindings below.
  uint64_t module_hash = 0;
  // Not in the JSON outline: `NAME = ...` and `NAME: T = ...` statements at the top level
  // of the module (not in a block), hashed by name, sorted: a change to one constant is
  // followed to the code that can read that name, not to every importer of the module.
  std::vector<std::pair<std::string, uint64_t>> bindings;
  // Not in the JSON outline: the names, attributes included, that module-level code run at
  // import time reads (statements, decorators, defaults, class headers; class bodies keep
  // their own), sorted and unique, without import statements and binding targets. A
  // binding named here may flow into other values.
  std::vector<std::string> import_time_names;
  std::vector<WithItem> withs;       // only with ScanOptions::call_sites
  std::vector<CallSite> call_sites;  // only with ScanOptions::call_sites, in source order
  int error_line = 0;                // 0: parsed without error
  std::string error;
  bool ok() const { return error.empty(); }
};

}  // namespace testmap::scan
