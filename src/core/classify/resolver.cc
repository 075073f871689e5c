// Import-following name resolution and class ancestry, memoized per file and class.
#include "core/classify/resolver.h"

#include <algorithm>
#include <array>
#include <tuple>

#include <fmt/format.h>

namespace testmap::classify {
namespace {

constexpr int kMaxDepth = 40;

bool is_builtin(const std::string& name) {
  static constexpr std::array<std::string_view, 24> kBuiltins = {"object",        "Exception",
                                                                 "BaseException", "dict",
                                                                 "list",          "set",
                                                                 "tuple",         "int",
                                                                 "str",           "float",
                                                                 "bytes",         "type",
                                                                 "ValueError",    "TypeError",
                                                                 "RuntimeError",  "KeyError",
                                                                 "IndexError",    "AttributeError",
                                                                 "OSError",       "IOError",
                                                                 "LookupError",   "ArithmeticError",
                                                                 "frozenset",     "property"};
  return std::find(kBuiltins.begin(), kBuiltins.end(), name) != kBuiltins.end();
}

std::pair<std::string, std::string> split_first(const std::string& dotted) {
  size_t dot = dotted.find('.');
  if (dot == std::string::npos) return {dotted, ""};
  return {dotted.substr(0, dot), dotted.substr(dot + 1)};
}

long long key(int file, int cls) {
  return (static_cast<long long>(file) << 32) | static_cast<unsigned>(cls);
}

}  // namespace

std::string Resolver::absolute_module(int file, const std::string& module, int level) const {
  return classify::absolute_module(project_.files[file], module, level);
}

std::string absolute_module(const SourceFile& f, const std::string& module, int level) {
  if (level == 0) return module;
  std::string pkg = f.module;
  if (!f.is_init) {
    size_t dot = pkg.rfind('.');
    pkg = dot == std::string::npos ? "" : pkg.substr(0, dot);
  }
  for (int i = 1; i < level; ++i) {
    size_t dot = pkg.rfind('.');
    pkg = dot == std::string::npos ? "" : pkg.substr(0, dot);
  }
  if (module.empty()) return pkg;
  return pkg.empty() ? module : pkg + "." + module;
}

const Resolver::Namespace& Resolver::ns(int file) {
  auto it = namespaces_.find(file);
  if (it != namespaces_.end()) return it->second;
  Namespace n;
  const scan::Outline& o = project_.files[file].outline;
  // Later bindings win, as at run time; definitions and imports interleave by line.
  struct Item {
    int line;
    std::string name;
    Binding b;
  };
  std::vector<Item> items;
  for (size_t i = 0; i < o.classes.size(); ++i) {
    const auto& c = o.classes[i];
    if (c.parent < 0 && !c.in_function)
      items.push_back({c.line, c.name, {Binding::kClass, static_cast<int>(i)}});
  }
  for (size_t i = 0; i < o.functions.size(); ++i) {
    const auto& f = o.functions[i];
    if (f.parent_class < 0 && !f.in_function)
      items.push_back({f.line, f.name, {Binding::kFunction, static_cast<int>(i)}});
  }
  for (const auto& imp : o.imports) {
    if (imp.in_function) continue;
    if (!imp.has_name()) {
      if (!imp.asname.empty()) {
        items.push_back({imp.line, imp.asname, {Binding::kModule, -1, imp.module, ""}});
      } else {
        auto [first, rest] = split_first(imp.module);
        items.push_back({imp.line, first, {Binding::kModule, -1, first, ""}});
      }
      continue;
    }
    std::string mod = absolute_module(file, imp.module, imp.level);
    if (imp.name == "*") {
      n.star_modules.push_back(mod);
      continue;
    }
    items.push_back({imp.line,
                     imp.asname.empty() ? imp.name : imp.asname,
                     {Binding::kFrom, -1, mod, imp.name, imp.line}});
  }
  for (const auto& a : o.aliases)  // `X = X` keeps the binding it had
    if (split_first(a.dotted).first != a.name)
      items.push_back({a.line, a.name, {Binding::kAlias, -1, "", a.dotted, a.line}});
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.line < b.line; });
  for (auto& item : items) n.names[item.name] = std::move(item.b);
  return namespaces_.emplace(file, std::move(n)).first->second;
}

Symbol Resolver::descend(Symbol s, const std::string& rest, int depth) {
  if (rest.empty() || s.kind == Symbol::kNone) return s;
  if (s.kind == Symbol::kModule) return in_module(s.name, rest, depth + 1);
  if (s.kind == Symbol::kExternal) {
    s.name += "." + rest;
    return s;
  }
  if (s.kind == Symbol::kClass) {
    // A nested class: Outer.Inner
    const auto& o = project_.files[s.file].outline;
    auto [first, tail] = split_first(rest);
    for (size_t i = 0; i < o.classes.size(); ++i)
      if (o.classes[i].parent == s.index && o.classes[i].name == first) {
        Symbol c{Symbol::kClass, s.file, static_cast<int>(i)};
        return descend(c, tail, depth + 1);
      }
  }
  return Symbol{};
}

Symbol Resolver::from_binding(int file, const Binding& b, int depth) {
  switch (b.kind) {
    case Binding::kClass:
      return Symbol{Symbol::kClass, file, b.index};
    case Binding::kFunction:
      return Symbol{Symbol::kFunction, file, b.index};
    case Binding::kModule: {
      if (project_.module_file(b.module) >= 0 || project_.packages.count(b.module))
        return Symbol{Symbol::kModule, -1, -1, b.module};
      return Symbol{Symbol::kExternal, -1, -1, b.module};
    }
    case Binding::kFrom:
      return in_module(b.module, b.name, depth + 1);
    case Binding::kAlias:
      return lookup(file, b.name, depth + 1);
  }
  return Symbol{};
}

Symbol Resolver::lookup(int file, const std::string& dotted, int depth) {
  if (depth > kMaxDepth) {
    Symbol s;
    s.cycle = true;
    return s;
  }
  auto [first, rest] = split_first(dotted);
  const Namespace& n = ns(file);
  if (auto it = n.names.find(first); it != n.names.end())
    return descend(from_binding(file, it->second, depth), rest, depth);
  for (const auto& star : n.star_modules) {
    Symbol s = in_module(star, first, depth + 1);
    if (s.kind != Symbol::kNone) return descend(s, rest, depth);
  }
  return Symbol{};
}

Symbol Resolver::in_module(const std::string& module, const std::string& rest, int depth) {
  if (depth > kMaxDepth) {
    Symbol s;
    s.cycle = true;
    return s;
  }
  if (rest.empty()) {
    if (project_.module_file(module) >= 0 || project_.packages.count(module))
      return Symbol{Symbol::kModule, -1, -1, module};
    return Symbol{Symbol::kExternal, -1, -1, module};
  }
  int file = project_.module_file(module);
  auto [first, tail] = split_first(rest);
  if (file >= 0) {
    Symbol s = lookup(file, first, depth + 1);
    if (s.kind != Symbol::kNone || s.cycle) return s.cycle ? s : descend(s, tail, depth);
  }
  std::string sub = module + "." + first;
  if (project_.module_file(sub) >= 0 || project_.packages.count(sub))
    return in_module(sub, tail, depth + 1);
  if (file < 0 && !project_.packages.count(module))
    return Symbol{Symbol::kExternal, -1, -1, module + "." + rest};
  return Symbol{};
}

Symbol Resolver::resolve(int file, const std::string& dotted) {
  Symbol s = lookup(file, dotted, 0);
  if (s.kind == Symbol::kNone && !s.cycle && dotted.find('.') == std::string::npos &&
      is_builtin(dotted))
    return Symbol{Symbol::kExternal, -1, -1, "builtins." + dotted};
  return s;
}

Symbol Resolver::resolve_qualified(const std::string& dotted) {
  // The longest prefix that is a module in the repo, then attributes inside it.
  std::string prefix = dotted;
  for (;;) {
    if (project_.module_file(prefix) >= 0) {
      std::string rest = prefix.size() < dotted.size() ? dotted.substr(prefix.size() + 1) : "";
      return in_module(prefix, rest, 0);
    }
    size_t dot = prefix.rfind('.');
    if (dot == std::string::npos) break;
    prefix = prefix.substr(0, dot);
  }
  return Symbol{Symbol::kExternal, -1, -1, dotted};
}

std::string Resolver::qualify(int file, const std::string& dotted) {
  auto [first, rest] = split_first(dotted);
  const Namespace& n = ns(file);
  auto it = n.names.find(first);
  if (it == n.names.end()) return dotted;
  const Binding& b = it->second;
  std::string base;
  if (b.kind == Binding::kModule)
    base = b.module;
  else if (b.kind == Binding::kFrom)
    base = b.module.empty() ? b.name : b.module + "." + b.name;
  else if (b.kind == Binding::kAlias)
    base = b.name;  // one level: `mark = pytest.mark` gives "pytest.mark"
  else
    return dotted;
  return rest.empty() ? base : base + "." + rest;
}

std::vector<std::pair<std::string, Symbol>> Resolver::class_bindings(int file) {
  std::vector<std::tuple<int, std::string, Symbol>> found;
  const Namespace& n = ns(file);
  const auto& o = project_.files[file].outline;
  for (const auto& [name, b] : n.names) {
    if (b.kind == Binding::kClass) {
      found.emplace_back(o.classes[b.index].line, name, Symbol{Symbol::kClass, file, b.index});
    } else if (b.kind == Binding::kFrom || b.kind == Binding::kAlias) {
      Symbol s = from_binding(file, b, 0);
      if (s.kind == Symbol::kClass) found.emplace_back(b.line, name, s);
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::get<0>(a) != std::get<0>(b) ? std::get<0>(a) < std::get<0>(b)
                                            : std::get<1>(a) < std::get<1>(b);
  });
  std::vector<std::pair<std::string, Symbol>> out;
  for (auto& [line, name, sym] : found) out.emplace_back(std::move(name), std::move(sym));
  return out;
}

const Ancestry& Resolver::ancestry(int file, int cls) {
  long long k = key(file, cls);
  if (auto it = ancestry_.find(k); it != ancestry_.end()) return it->second;
  Ancestry a;
  a.classes.emplace_back(file, cls);
  if (in_progress_[k]) {
    const auto& c = project_.files[file].outline.classes[cls];
    a.unresolved.push_back({project_.files[file].rel, c.line, c.qualname, "inheritance cycle"});
    cycles_.push_back(std::move(a));  // not memoized: the outer call finishes this class
    return cycles_.back();
  }
  in_progress_[k] = true;
  const auto& c = project_.files[file].outline.classes[cls];
  for (const auto& base : c.bases) {
    if (base.callee.empty() || base.is_call) {
      a.unresolved.push_back(
          {project_.files[file].rel, c.line, c.qualname,
           fmt::format("base class '{}' is not a name testmap can follow", base.text)});
      continue;
    }
    Symbol s;
    // A base defined in the same class body or module: try sibling nested classes first.
    if (c.parent >= 0) {
      const auto& o = project_.files[file].outline;
      for (size_t i = 0; i < o.classes.size(); ++i)
        if (o.classes[i].parent == c.parent && o.classes[i].name == base.callee &&
            static_cast<int>(i) != cls)
          s = Symbol{Symbol::kClass, file, static_cast<int>(i)};
    }
    if (s.kind == Symbol::kNone) s = resolve(file, base.callee);
    if (s.kind == Symbol::kClass) {
      const Ancestry& parent = ancestry(s.file, s.index);
      for (const auto& pc : parent.classes)
        if (std::find(a.classes.begin(), a.classes.end(), pc) == a.classes.end())
          a.classes.push_back(pc);
      for (const auto& e : parent.externals)
        if (std::find(a.externals.begin(), a.externals.end(), e) == a.externals.end())
          a.externals.push_back(e);
      for (const auto& u : parent.unresolved) a.unresolved.push_back(u);
    } else if (s.kind == Symbol::kExternal) {
      if (std::find(a.externals.begin(), a.externals.end(), s.name) == a.externals.end())
        a.externals.push_back(s.name);
    } else {
      a.unresolved.push_back(
          {project_.files[file].rel, c.line, c.qualname,
           s.cycle ? fmt::format("base class '{}' is in an import cycle", base.callee)
                   : fmt::format("base class '{}' cannot be resolved", base.callee)});
    }
  }
  in_progress_[k] = false;
  return ancestry_.emplace(k, std::move(a)).first->second;
}

}  // namespace testmap::classify
