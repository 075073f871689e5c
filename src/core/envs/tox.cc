// Reading tox's configuration as tox 4 does: the INI text, from whichever file holds it,
// then the envlist expanded and each environment's settings with their conditions applied.
#include "core/envs/tox.h"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/config/config.h"
#include "core/config/ini.h"
#include "core/envs/tox_toml.h"

namespace testmap::envs {
namespace {

using config::trim;

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// The alternatives of one brace group: "38,39" or a range "8-12".
// More than `budget` of them: *over set, and the list cut short.
std::vector<std::string> alternatives(std::string_view inside, size_t budget, bool* over) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= inside.size()) {
    size_t comma = inside.find(',', start);
    std::string_view alt = trim(inside.substr(start, comma - start));
    size_t dash = alt.find('-');
    // Open ranges, as tox 4.67 reads them: {10-} up to its newest minor (15), {-13} from its
    // oldest (11); past the window, the one version named.
    std::string opened;
    if (dash != std::string_view::npos && alt.size() > 1 && alt.size() <= 7 &&
        ((dash == 0 && all_digits(alt.substr(1))) ||
         (dash + 1 == alt.size() && all_digits(alt.substr(0, dash))))) {
      int bound = std::stoi(std::string(dash == 0 ? alt.substr(1) : alt.substr(0, dash)));
      int a = dash == 0 ? 11 : bound, b = dash == 0 ? bound : 15;
      if (b < a) a = b = bound;
      opened = fmt::format("{}-{}", a, b);
      alt = opened;
      dash = alt.find('-');
    }
    // A range of numbers (py3{8-12}); a number too long for one is text.
    if (dash != std::string_view::npos && all_digits(alt.substr(0, dash)) &&
        all_digits(alt.substr(dash + 1)) && dash <= 6 && alt.size() - dash - 1 <= 6) {
      int a = std::stoi(std::string(alt.substr(0, dash)));
      int b = std::stoi(std::string(alt.substr(dash + 1)));
      if (out.size() + static_cast<size_t>(std::abs(b - a)) + 1 > budget) {
        *over = true;
        return out;
      }
      for (int k = a; a <= b ? k <= b : k >= b; k += a <= b ? 1 : -1)
        out.push_back(std::to_string(k));
    } else {
      out.emplace_back(alt);
    }
    if (out.size() > budget) {
      *over = true;
      return out;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// Splits on `seps` outside braces, dropping empty parts.
std::vector<std::string_view> split_outside_braces(std::string_view text, std::string_view seps) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '{') ++depth;
    if (c == '}' && depth > 0) --depth;
    if (i == text.size() || (depth == 0 && seps.find(c) != std::string_view::npos)) {
      std::string_view part = trim(text.substr(start, i - start));
      if (!part.empty()) out.push_back(part);
      start = i + 1;
    }
  }
  return out;
}

// Whether the text before a line's `:` is a factor condition (`py38,py39`, `!lint`,
// `django{32,42}-postgres`) and not part of a value (`{posargs:tests}`, `git+https://`).
bool is_condition(std::string_view prefix) {
  return !prefix.empty() && prefix.find_first_not_of(
                                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                "_.!,{}-") == std::string_view::npos;
}

bool matches(std::string_view condition, const std::set<std::string>& have) {
  for (std::string_view any : split_outside_braces(condition, ",")) {
    for (const std::string& all : expand(any)) {
      bool ok = true;
      size_t start = 0;
      while (ok && start <= all.size()) {
        size_t dash = all.find('-', start);
        std::string f =
            all.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
        bool negated = !f.empty() && f[0] == '!';
        if (negated) f.erase(0, 1);
        ok = have.count(f) != negated;
        if (dash == std::string::npos) break;
        start = dash + 1;
      }
      if (ok) return true;
    }
  }
  return false;
}

// `{[section]key}` replaced by that key's text; tox applies conditions after this.
std::string substitute_references(const std::string& value, const config::IniFile& ini,
                                  int depth = 0) {
  std::string out;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t open = value.find("{[", pos);
    size_t close = open == std::string::npos ? open : value.find('}', open);
    size_t bracket = open == std::string::npos ? open : value.find(']', open);
    if (open == std::string::npos || close == std::string::npos || bracket > close) {
      out += value.substr(pos);
      break;
    }
    out += value.substr(pos, open - pos);
    std::string section = value.substr(open + 2, bracket - open - 2);
    std::string key = std::string(trim(value.substr(bracket + 1, close - bracket - 1)));
    auto s = ini.find(section);
    if (s != ini.end() && s->second.count(key) && depth < 8)
      out += substitute_references(s->second.at(key).value, ini, depth + 1);
    pos = close + 1;
  }
  return out;
}

// The section of an environment: `[testenv:NAME]`, a generative one that names it, or none.
const config::IniSection* env_section(const config::IniFile& ini, const std::string& prefix,
                                      const std::string& name) {
  auto exact = ini.find(prefix + name);
  if (exact != ini.end()) return &exact->second;
  for (const auto& [section, keys] : ini) {
    if (!section.starts_with(prefix) || section.find('{') == std::string::npos) continue;
    for (const auto& n : expand(std::string_view(section).substr(prefix.size())))
      if (n == name) return &keys;
  }
  return nullptr;
}

std::string basepython_python(std::string_view v) {
  v = trim(v);
  if (v.starts_with("python")) return std::string(v.substr(6));
  // tox reads a factor's name here too: py312 is 3.12.
  if (std::string p = python_of_factor(v); !p.empty()) return p;
  return std::string(v);  // as setup-python names it
}

// A command's `\` continuations joined, and the factor conditions applied.
std::vector<std::string> joined_lines(std::string_view value, const std::vector<std::string>& f) {
  std::vector<std::string> out;
  std::string pending;
  for (std::string& line : conditional_lines(value, f)) {
    if (line.ends_with('\\')) {
      pending += line.substr(0, line.size() - 1);
      continue;
    }
    out.push_back(pending + line);
    pending.clear();
  }
  if (!pending.empty()) out.push_back(pending);
  return out;
}

// Where tox's configuration is, in tox 4's order: tox.ini, setup.cfg [tox:tox], pyproject.toml
// [tool.tox] as TOML tables, then as legacy_tox_ini, then tox.toml. The INI text, or the
// parsed TOML document.
struct Source {
  std::string file, text, tox_section = "tox";
  std::optional<toml::table> toml;  // set for the native TOML format
};

bool parse_toml(const std::string& file, const std::string& text, toml::table* out,
                Diagnostic* error) {
  try {
    *out = toml::parse(text, file);
    return true;
  } catch (const toml::parse_error& e) {
    *error = {file, static_cast<int>(e.source().begin.line), "",
              fmt::format("not valid TOML: {}", e.description())};
    return false;
  }
}

bool find_source(const std::string& root, Source* out, Diagnostic* error) {
  namespace fs = std::filesystem;
  std::string text;
  if (config::read_text((fs::path(root) / "tox.ini").string(), &text)) {
    *out = {"tox.ini", text};
    return true;
  }
  if (config::read_text((fs::path(root) / "setup.cfg").string(), &text) &&
      config::parse_ini(text).count("tox:tox")) {
    *out = {"setup.cfg", text, "tox:tox"};
    return true;
  }
  if (config::read_text((fs::path(root) / "pyproject.toml").string(), &text)) {
    toml::table doc;
    if (!parse_toml("pyproject.toml", text, &doc, error)) return false;
    if (const toml::table* tox = doc["tool"]["tox"].as_table()) {
      // Any key but legacy_tox_ini makes it the native format, as tox 4 decides.
      bool native = false;
      for (const auto& [k, v] : *tox) native = native || k.str() != "legacy_tox_ini";
      if (native) {
        *out = {"pyproject.toml", "", "", std::move(doc)};
        return true;
      }
      if (auto legacy = (*tox)["legacy_tox_ini"].value<std::string>()) {
        *out = {"pyproject.toml", *legacy};
        return true;
      }
    }
  }
  if (config::read_text((fs::path(root) / "tox.toml").string(), &text)) {
    toml::table doc;
    if (!parse_toml("tox.toml", text, &doc, error)) return false;
    *out = {"tox.toml", "", "", std::move(doc)};
    return true;
  }
  *error = {root, 0, "",
            "no tox configuration (tox.ini, setup.cfg [tox:tox], pyproject.toml [tool.tox], "
            "tox.toml)"};
  return false;
}

}  // namespace

std::vector<std::string> expand(std::string_view pattern, bool* too_many) {
  std::vector<std::string> out{""};
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find('{', pos);
    size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) {  // no (complete) group left: the rest is literal
      for (auto& s : out) s += pattern.substr(pos);
      break;
    }
    std::string_view literal = pattern.substr(pos, open - pos);
    bool over = false;
    std::vector<std::string> alts = alternatives(pattern.substr(open + 1, close - open - 1),
                                                 kMaxEnvironments / out.size(), &over);
    if (over || out.size() * alts.size() > kMaxEnvironments) {  // no tox.ini means this many
      if (too_many) *too_many = true;
      return {};
    }
    std::vector<std::string> next;
    for (const auto& s : out)
      for (const auto& alt : alts) next.push_back(s + std::string(literal) + alt);
    out = std::move(next);
    pos = close + 1;
  }
  return out;
}

std::vector<std::string> expand_envlist(std::string_view text, bool* too_many) {
  std::vector<std::string> out;
  for (std::string_view part : split_outside_braces(text, ",\n \t")) {
    for (auto& name : expand(part, too_many)) out.push_back(std::move(name));
    if (out.size() > kMaxEnvironments && too_many) *too_many = true;
    if (too_many && *too_many) return {};
  }
  return out;
}

std::vector<std::string> conditional_lines(std::string_view value,
                                           const std::vector<std::string>& factors) {
  std::set<std::string> have(factors.begin(), factors.end());
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t nl = value.find('\n', start);
    std::string_view line = trim(value.substr(start, nl - start));
    // An inline comment, as tox strips it: ` #` to the end of the line.
    if (size_t hash = line.find(" #"); hash != std::string_view::npos)
      line = trim(line.substr(0, hash));
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && is_condition(line.substr(0, colon)) &&
        (colon + 1 == line.size() || line[colon + 1] == ' ')) {
      if (matches(line.substr(0, colon), have))
        line = trim(line.substr(colon + 1));
      else
        line = {};
    }
    if (!line.empty()) out.emplace_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string python_of_factor(std::string_view f) {
  std::string prefix;
  if (f.starts_with("pypy")) {
    prefix = "pypy";
    f.remove_prefix(4);
  } else if (f.starts_with("py")) {
    f.remove_prefix(2);
  } else if (f.size() > 2 && (f[0] == '2' || f[0] == '3') && f[1] == '.' &&
             (all_digits(f.substr(2)) ||
              (f.ends_with('t') && all_digits(f.substr(2, f.size() - 3))))) {
    return std::string(f);  // tox 4 reads a bare version as the Python: "3.12", "3.14t"
  } else if (f == "graalpy") {
    return "graalpy";
  } else {
    return "";
  }
  if (f.empty()) return prefix.empty() ? "" : "pypy3";
  // py314t, py3.14t: CPython's free-threaded build, as setup-python names it.
  std::string threaded;
  if (prefix.empty() && f.size() > 1 && f.back() == 't') {
    threaded = "t";
    f.remove_suffix(1);
  }
  if (f.find('.') != std::string_view::npos) {  // py3.11
    size_t dot = f.find('.');
    if (!all_digits(f.substr(0, dot)) || !all_digits(f.substr(dot + 1))) return "";
    return prefix + std::string(f) + threaded;
  }
  if (!all_digits(f)) return "";
  if (f.size() == 1) return prefix + std::string(f) + threaded;  // py3
  return prefix + fmt::format("{}.{}", f.substr(0, 1), f.substr(1)) + threaded;
}

std::string python_of_basepython(std::string_view v) {
  return basepython_python(v);
}

std::vector<std::string> factors_of(std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view f : split_outside_braces(name, "-")) out.emplace_back(f);
  return out;
}

std::string with_env_name(std::string text, const std::string& name) {
  for (std::string_view ref : {"{env_name}", "{envname}"})
    for (size_t at; (at = text.find(ref)) != std::string::npos;) text.replace(at, ref.size(), name);
  return text;
}

void finish_env(Env* e, std::string_view basepython, std::string dir,
                std::string_view default_python) {
  for (const char* root_ref : {"{toxinidir}/", "{toxinidir}", "{tox_root}/", "{tox_root}"})
    if (dir.starts_with(root_ref)) dir.erase(0, std::string_view(root_ref).size());
  e->changedir = dir == "." ? "" : dir;
  if (!trim(basepython).empty()) e->python = basepython_python(basepython);
  for (size_t i = 0; e->python.empty() && i < e->factors.size(); ++i)
    e->python = python_of_factor(e->factors[i]);
  if (e->python.empty() && !trim(default_python).empty())
    e->python = basepython_python(default_python);
}

bool read_tox(const std::string& root, ToxConfig* out, Diagnostic* error) {
  Source src;
  if (!find_source(root, &src, error)) return false;
  if (src.toml) {
    const toml::table* tox =
        src.file == "tox.toml" ? &*src.toml : (*src.toml)["tool"]["tox"].as_table();
    return read_tox_toml(*src.toml, *tox, src.file, out, error);
  }
  config::IniFile ini = config::parse_ini(src.text);
  out->file = src.file;
  auto tox = ini.find(src.tox_section);
  const config::IniValue* list = nullptr;
  if (tox != ini.end())
    for (const char* key : {"env_list", "envlist"})
      if (auto it = tox->second.find(key); it != tox->second.end()) list = &it->second;
  if (!list) {
    *error = {src.file, 0, fmt::format("[{}] envlist", src.tox_section),
              "no envlist: testmap groups the environments it lists"};
    return false;
  }
  if (auto it = tox->second.find("skip_missing_interpreters"); it != tox->second.end())
    out->skip_missing = trim(it->second.value) == "true" || trim(it->second.value) == "True";
  const std::string env_prefix = "testenv:";
  std::string package_python;  // [testenv:.pkg]'s
  if (auto pkg = ini.find("testenv:.pkg"); pkg != ini.end())
    for (const char* key : {"base_python", "basepython", "default_base_python"})
      if (auto it = pkg->second.find(key); it != pkg->second.end() && package_python.empty()) {
        auto lines = joined_lines(it->second.value, {});
        if (!lines.empty()) package_python = basepython_python(lines[0]);
      }
  const config::IniSection* base = nullptr;
  if (auto it = ini.find("testenv"); it != ini.end()) base = &it->second;
  std::set<std::string> seen;
  bool too_many = false;
  std::vector<std::string> names = expand_envlist(list->value, &too_many);
  if (too_many) {
    *error = {src.file, list->line, fmt::format("[{}] envlist", src.tox_section),
              fmt::format("expands to more than {} environments", kMaxEnvironments)};
    return false;
  }
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    Env e;
    e.name = name;
    e.line = list->line;
    e.factors = factors_of(name);
    const config::IniSection* own = env_section(ini, env_prefix, name);
    // A key by tox 4's name or its older alias (change_dir or changedir), the environment's
    // own section first.
    auto get = [&](const char* key, const char* alias = nullptr) -> std::string {
      for (const config::IniSection* s : {own, base})
        if (s)
          for (const char* k : {key, alias})
            if (k)
              if (auto it = s->find(k); it != s->end())
                return substitute_references(it->second.value, ini);
      return "";
    };
    e.deps = joined_lines(get("deps"), e.factors);
    // commands_pre and commands_post run in the environment too, and may run tests.
    for (const char* key : {"commands_pre", "commands", "commands_post"})
      for (auto& line : joined_lines(get(key), e.factors))
        e.commands.push_back(with_env_name(std::move(line), name));
    for (const auto& d : joined_lines(get("depends"), e.factors))
      for (std::string_view part : split_outside_braces(d, ", "))
        for (auto& n : expand(part)) e.depends.push_back(std::move(n));
    for (const auto& line : joined_lines(get("set_env", "setenv"), e.factors))
      if (size_t eq = line.find('='); eq != std::string::npos)
        e.setenv.emplace_back(std::string(trim(std::string_view(line).substr(0, eq))),
                              std::string(trim(std::string_view(line).substr(eq + 1))));
    auto changedir = joined_lines(get("change_dir", "changedir"), e.factors);
    auto basepython = joined_lines(get("base_python", "basepython"), e.factors);
    auto fallback = joined_lines(get("default_base_python"), e.factors);
    std::string skip = get("skip_install"), package = get("package");
    e.skip_install = trim(skip) == "true" || trim(skip) == "True" || trim(package) == "skip";
    if (!e.skip_install) e.package_python = package_python;
    finish_env(&e, basepython.empty() ? "" : basepython.back(),
               changedir.empty() ? "" : changedir.back(), fallback.empty() ? "" : fallback[0]);
    out->envs.push_back(std::move(e));
  }
  return true;
}

}  // namespace testmap::envs
