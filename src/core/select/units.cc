// Naming the code a tracer saw by the scanner's units.
#include "core/select/units.h"

#include <xxhash.h>

namespace testmap::select {
namespace {

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t both[2] = {a, b};
  return XXH3_64bits(both, sizeof both);
}

void add(FileUnits& u, const std::string& name, uint64_t h) {
  // Two definitions under one name (`if PY3: def f` / `else: def f`): either may run.
  auto [it, fresh] = u.hash.emplace(name, h);
  if (!fresh) it->second = mix(it->second, h);
}

}  // namespace

FileUnits units_of(const scan::Outline& o) {
  FileUnits u;
  for (const auto& f : o.functions) add(u, f.qualname, f.hash);
  for (const auto& c : o.classes) {
    add(u, c.qualname, c.own_hash);
    u.classes.insert(c.qualname);
  }
  u.hash[kWholeFile] = outline_digest(o);
  return u;
}

uint64_t outline_digest(const scan::Outline& o) {
  uint64_t h = mix(o.module_hash, o.ok() ? 0 : 1);
  for (const auto& f : o.functions) h = mix(h, f.hash);
  for (const auto& c : o.classes) h = mix(h, c.hash);
  for (const auto& [name, bh] : o.bindings)
    h = mix(h, mix(XXH3_64bits(name.data(), name.size()), bh));
  return h;
}

std::vector<std::string> units_of_code(const FileUnits& u, std::string_view qualname) {
  // "A.m.<locals>.inner.<locals>.<listcomp>" is the scanner's "A.m.inner".
  std::vector<std::string> parts;
  for (size_t start = 0; start <= qualname.size();) {
    size_t dot = qualname.find('.', start);
    if (dot == std::string_view::npos) dot = qualname.size();
    std::string_view part = qualname.substr(start, dot - start);
    if (!part.empty() && part.front() != '<')
      parts.emplace_back(part);
    else if (part != "<locals>")
      break;  // <lambda>, <listcomp>, <module>: the enclosing unit
    start = dot + 1;
  }
  std::vector<std::string> out;
  if (parts.empty()) return out;  // module-level code
  std::string name;
  for (size_t i = 0; i < parts.size(); ++i) {
    name += (i ? "." : "") + parts[i];
    if (i + 1 < parts.size() && u.classes.count(name)) out.push_back(name);
  }
  out.push_back(u.hash.count(name) ? name : kWholeFile);
  return out;
}

}  // namespace testmap::select
