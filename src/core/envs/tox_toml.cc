// tox's native TOML configuration (tox.toml, or pyproject.toml's [tool.tox] tables) read as
// tox 4 reads it: env_list with its `product` tables, [env_run_base], [env_base.NAME]
// templates, [env.NAME], and the replacements (`posargs`, `env`, `ref`, `if`).
#include "core/envs/tox_toml.h"

#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/envs/commands.h"

namespace testmap::envs {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 16;  // references deeper than this are a loop in the file
// Values read for one setting: references that fan out (a list of eight references to
// itself, each level) would otherwise take exponential time.
constexpr size_t kMaxNodes = 100'000;
// tox 4's window of Python 3 minors for an open range ({ prefix = "py3", start = 11 }).
constexpr int64_t kMinorMin = 11, kMinorMax = 15;

// A value tox would only know in CI (a glob of files, the host's environment): commands
// holding it are read as commands testmap cannot read, so they get every test and service.
json unknown(const std::string& what) {
  return json(fmt::format("<{}>", what));
}

// One env's view of the configuration.
struct Reader {
  const toml::table& doc;  // the whole file, for `ref` paths
  const toml::table& tox;  // tox's tables: the file's root, or [tool.tox]
  std::map<std::string, std::string> generated_from;  // env name -> its env_base template
  mutable size_t budget = kMaxNodes;  // left for the setting being read (resolve_key resets it)

  // The table an environment's key comes from: [env.NAME], its template, [env_run_base].
  const toml::node* raw(const std::string& env, const std::string& key) const {
    std::vector<const toml::table*> chain;
    if (auto* own = tox["env"][env].as_table()) chain.push_back(own);
    if (auto it = generated_from.find(env); it != generated_from.end())
      if (auto* t = tox["env_base"][it->second].as_table()) chain.push_back(t);
    if (auto* base = tox["env_run_base"].as_table()) chain.push_back(base);
    for (const toml::table* t : chain)
      if (const toml::node* n = t->get(key)) return n;
    return nullptr;
  }

  json resolve(const toml::node& n, const Env& e, int depth) const;
  json resolve_key(const std::string& env, const Env& e, const std::string& key, int depth) const {
    const toml::node* n = raw(env, key);
    if (depth == 0) budget = kMaxNodes;
    return n ? resolve(*n, e, depth) : json();
  }
  json replacement(const toml::table& t, const Env& e, int depth) const;
  bool condition(std::string_view text, const Env& e, bool* known) const;
};

// By the node's own type: toml++'s value<T>() converts between some (a bool reads as 1).
std::string scalar_text(const toml::node& n) {
  if (n.is_string()) return *n.value<std::string>();
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_integer()) return std::to_string(*n.value<int64_t>());
  if (n.is_floating_point()) return fmt::format("{}", *n.value<double>());
  return "";
}

json Reader::resolve(const toml::node& n, const Env& e, int depth) const {
  if (budget == 0) return unknown("references past testmap's limit");
  --budget;  // every call counts, those past the depth limit too
  if (depth > kMaxDepth) return unknown("a reference loop");
  if (const toml::array* a = n.as_array()) {
    json out = json::array();
    for (const toml::node& item : *a) {
      if (budget == 0) {  // the rest is not read: said once, in its place
        out.push_back(unknown("references past testmap's limit"));
        break;
      }
      json got = resolve(item, e, depth + 1);
      const toml::table* t = item.as_table();
      // A replacement that gives "" (an `if` without `else`) adds nothing, as in tox.
      if (t && t->get("replace") && got.is_string() && got.get<std::string>().empty()) continue;
      bool extend = t && t->get("replace") && (*t)["extend"].value_or(false);
      // posargs in a command is spliced into it as tox does; it gives a list.
      bool posargs = t && (*t)["replace"].value_or(std::string()) == "posargs";
      if ((extend || posargs) && got.is_array())
        for (auto& g : got) out.push_back(std::move(g));
      else if (!got.is_null())
        out.push_back(std::move(got));
    }
    return out;
  }
  if (const toml::table* t = n.as_table()) {
    if (t->get("replace")) return replacement(*t, e, depth);
    json out = json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = resolve(v, e, depth + 1);
    return out;
  }
  return json(scalar_text(n));
}

// Flattens a resolved value to its strings: a list inside a list (a replacement without
// `extend`) gives its items.
void strings_of(const json& v, std::vector<std::string>* out) {
  if (v.is_string()) out->push_back(v.get<std::string>());
  if (v.is_array())
    for (const auto& x : v) strings_of(x, out);
}

std::string text_of(const json& v) {
  std::vector<std::string> parts;
  strings_of(v, &parts);
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : " ") + p;
  return s;
}

json Reader::replacement(const toml::table& t, const Env& e, int depth) const {
  std::string kind = t["replace"].value_or(std::string());
  if (kind == "posargs") {  // CI passes none: the default
    const toml::node* d = t.get("default");
    return d ? resolve(*d, e, depth + 1) : json::array();
  }
  if (kind == "env") {
    std::string name = t["name"].value_or(std::string());
    for (const auto& [k, v] : e.setenv)
      if (k == name) return json(v);
    const toml::node* d = t.get("default");
    return d ? json(text_of(resolve(*d, e, depth + 1))) : json("");
  }
  if (kind == "ref") {
    if (auto env = t["env"].value<std::string>()) {
      std::string key = t["key"].value_or(std::string());
      Env other;
      other.name = *env;
      other.factors = factors_of(*env);
      return resolve_key(*env, other, key, depth + 1);
    }
    if (const toml::array* of = t["of"].as_array()) {
      const toml::node* at = &doc;
      for (const toml::node& part : *of) {
        const toml::table* here = at ? at->as_table() : nullptr;
        auto key = part.value<std::string>();
        at = here && key ? here->get(*key) : nullptr;
      }
      return at ? resolve(*at, e, depth + 1) : json();
    }
    return json();
  }
  if (kind == "if") {
    bool known = true;
    bool yes = condition(t["condition"].value_or(std::string()), e, &known);
    if (!known) return unknown(fmt::format("condition {}", t["condition"].value_or(std::string())));
    const toml::node* branch = t.get(yes ? "then" : "else");
    return branch ? resolve(*branch, e, depth + 1) : json("");
  }
  return unknown(fmt::format("replace = \"{}\"", kind));
}

// tox's conditions: factor.NAME, factor['NAME'], env_name, string literals, ==, !=, not, and,
// or, parentheses. env.NAME (the host's environment) is not known here: *known is false.
struct Condition {
  std::string_view s;
  size_t pos = 0;
  const std::set<std::string>& factors;
  const std::string& env_name;
  bool* known;
  int depth = 0;  // of `not` and parentheses: past 64, unknown (no input overflows the stack)

  void skip() {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
  }
  bool word(std::string_view w) {
    skip();
    if (s.substr(pos, w.size()) != w) return false;
    size_t end = pos + w.size();
    if (end < s.size() && (isalnum(static_cast<unsigned char>(s[end])) || s[end] == '_'))
      return false;
    pos = end;
    return true;
  }
  // A value: a bool, or a string; `is_str` says which.
  bool primary(std::string* str, bool* is_str) {
    skip();
    *is_str = false;
    if (++depth > 64) {
      *known = false;
      pos = s.size();
      return false;
    }
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{depth};
    if (pos < s.size() && s[pos] == '(') {
      ++pos;
      bool v = or_expr();
      skip();
      if (pos < s.size() && s[pos] == ')')
        ++pos;
      else
        *known = false;
      return v;
    }
    if (pos < s.size() && (s[pos] == '"' || s[pos] == '\'')) {
      char q = s[pos++];
      size_t end = s.find(q, pos);
      if (end == std::string_view::npos) {
        *known = false;
        pos = s.size();
        return false;
      }
      *str = std::string(s.substr(pos, end - pos));
      *is_str = true;
      pos = end + 1;
      return !str->empty();
    }
    size_t start = pos;
    while (pos < s.size() &&
           (isalnum(static_cast<unsigned char>(s[pos])) || s[pos] == '_' || s[pos] == '.' ||
            s[pos] == '[' || s[pos] == ']' || s[pos] == '\'' || s[pos] == '"' || s[pos] == '-'))
      ++pos;
    std::string_view name = s.substr(start, pos - start);
    if (name == "env_name") {
      *str = env_name;
      *is_str = true;
      return !str->empty();
    }
    std::string key;
    if (name.starts_with("factor."))
      key = std::string(name.substr(7));
    else if (name.starts_with("factor[") && name.size() > 10 && name.ends_with("]"))
      key = std::string(name.substr(8, name.size() - 10));
    if (key.empty()) {
      *known = false;  // env.NAME, or something tox would refuse
      return false;
    }
    // tox adds the runner's platform and machine to the factors: not known here.
    static const std::set<std::string_view> kHost = {
        "linux",   "darwin", "win32", "cygwin", "freebsd", "x86_64", "amd64",
        "aarch64", "arm64",  "i686",  "x86",    "ppc64le", "s390x",  "riscv64"};
    if (!factors.count(key) && kHost.count(key)) *known = false;
    return factors.count(key) > 0;
  }
  // ==, != as Python compares: strings by value, a bool and a string never equal.
  bool compare() {
    std::string a, b;
    bool as, bs;
    bool va = primary(&a, &as);
    skip();
    for (std::string_view op : {"==", "!="}) {
      if (s.substr(pos, 2) != op) continue;
      pos += 2;
      bool vb = primary(&b, &bs);
      bool eq = as && bs ? a == b : as || bs ? false : va == vb;
      return op == "==" ? eq : !eq;
    }
    return va;
  }
  // `not` binds looser than a comparison, as in Python: `not env_name == 'lint'`.
  bool not_expr() {
    if (word("not")) {
      if (++depth > 64) {
        *known = false;
        pos = s.size();
        return false;
      }
      bool v = !not_expr();
      --depth;
      return v;
    }
    return compare();
  }
  bool and_expr() {
    bool v = not_expr();
    while (word("and")) v = not_expr() && v;
    return v;
  }
  bool or_expr() {
    bool v = and_expr();
    while (word("or")) v = and_expr() || v;
    return v;
  }
};

bool Reader::condition(std::string_view text, const Env& e, bool* known) const {
  std::set<std::string> factors(e.factors.begin(), e.factors.end());
  Condition c{text, 0, factors, e.name, known};
  bool v = c.or_expr();
  c.skip();
  if (c.pos != text.size() || text.empty()) *known = false;
  return v;
}

// A factor group of a `product` or an env_base template: a list, a range table
// {prefix, start, stop}, or a labeled one {label = [...]}.
bool factor_group(const toml::node& g, std::vector<std::string>* out) {
  auto range = [&](const toml::table& t) {
    std::string prefix = t["prefix"].value_or(std::string());
    auto start = t["start"].value<int64_t>(), stop = t["stop"].value<int64_t>();
    // An open end is tox's own window of Python 3 minors (as tox 4.67 sets it).
    if (!start && !stop) return false;
    int64_t a = start.value_or(kMinorMin), b = stop.value_or(kMinorMax);
    if (a < -1'000'000 || b > 1'000'000) return false;  // no overflow below, no such file
    if (b < a) {  // an explicit bound past the window still names one version, as in tox
      if (start && stop) return true;
      a = b = start ? a : b;
    }
    if (b - a > 1000) return false;
    for (int64_t k = a; k <= b; ++k) out->push_back(prefix + std::to_string(k));
    return true;
  };
  if (const toml::array* a = g.as_array()) {
    for (const toml::node& item : *a) {
      auto s = item.value<std::string>();
      if (!s) return false;
      out->push_back(*s);
    }
    return true;
  }
  if (const toml::table* t = g.as_table()) {
    if (t->get("prefix")) return range(*t);
    if (t->size() != 1) return false;
    const toml::node& values = t->cbegin()->second;
    if (const toml::table* inner = values.as_table()) {
      if (inner->get("prefix")) return range(*inner);
      if (const toml::node* listed = inner->get("values")) return factor_group(*listed, out);
      return false;
    }
    return factor_group(values, out);
  }
  return false;
}

// The names a product of factor groups gives, joined with `-`, less its `exclude`.
bool product(const toml::array& groups, const toml::node* exclude, const std::string& prefix,
             std::vector<std::string>* out) {
  std::vector<std::string> names{prefix};
  for (const toml::node& g : groups) {
    std::vector<std::string> values;
    if (!factor_group(g, &values)) return false;
    std::vector<std::string> next;
    if (names.size() * values.size() > kMaxEnvironments) return false;
    for (const auto& n : names)
      for (const auto& v : values) next.push_back(n.empty() ? v : n + "-" + v);
    names = std::move(next);
  }
  std::set<std::string> skip;
  if (exclude && exclude->as_array())
    for (const toml::node& x : *exclude->as_array())
      if (auto s = x.value<std::string>()) skip.insert(*s);
  for (auto& n : names)
    if (!skip.count(n)) out->push_back(std::move(n));
  return true;
}

int line_of(const toml::node* n) {
  return n ? static_cast<int>(n->source().begin.line) : 0;
}

}  // namespace

bool read_tox_toml(const toml::table& doc, const toml::table& tox, const std::string& file,
                   ToxConfig* out, Diagnostic* error) {
  const std::string at = &doc == &tox ? "" : "tool.tox.";
  Reader r{doc, tox, {}};
  // env_base templates generate environments named TEMPLATE-FACTOR-...
  if (const toml::table* bases = tox["env_base"].as_table()) {
    for (const auto& [name, t] : *bases) {
      const toml::array* factors = t.as_table() ? (*t.as_table())["factors"].as_array() : nullptr;
      if (!factors) {
        *error = {file, line_of(&t), fmt::format("{}env_base.{}", at, name.str()),
                  "needs a `factors` list, as tox says"};
        return false;
      }
      std::vector<std::string> names;
      bool nested = !factors->empty() && !(*factors)[0].is_string();
      toml::array one;
      if (!nested) one.push_back(*factors);
      if (!product(nested ? *factors : one, nullptr, std::string(name.str()), &names)) {
        *error = {file, line_of(factors), fmt::format("{}env_base.{}.factors", at, name.str()),
                  "a factor group testmap cannot read"};
        return false;
      }
      for (auto& n : names) r.generated_from[n] = std::string(name.str());
    }
  }
  const toml::node* list = tox.get("env_list");
  if (!list) list = tox.get("envlist");
  if (!list || !list->as_array()) {
    *error = {file, line_of(list), at + "env_list",
              list ? "should be a list of environment names"
                   : "no env_list: testmap groups the environments it lists"};
    return false;
  }
  std::vector<std::string> names;
  for (const toml::node& item : *list->as_array()) {
    if (auto s = item.value<std::string>()) {
      names.push_back(*s);
    } else if (const toml::table* t = item.as_table(); t && (*t)["product"].as_array()) {
      if (!product(*(*t)["product"].as_array(), t->get("exclude"), "", &names)) {
        *error = {file, line_of(&item), at + "env_list",
                  fmt::format("a product testmap cannot read, or of more than {} environments",
                              kMaxEnvironments)};
        return false;
      }
    } else {
      *error = {file, line_of(&item), at + "env_list",
                "an entry that is neither a name nor a { product = [...] } table"};
      return false;
    }
    if (names.size() > kMaxEnvironments) {
      *error = {file, line_of(list), at + "env_list",
                fmt::format("expands to more than {} environments", kMaxEnvironments)};
      return false;
    }
  }
  out->file = file;
  // The package environment's Python: [env.".pkg"], else [env_pkg_base].
  std::string package_python;
  for (const char* key : {"base_python", "default_base_python"})
    for (const toml::node* n : {tox["env"][".pkg"][key].node(), tox["env_pkg_base"][key].node()}) {
      std::vector<std::string> v;
      if (n && package_python.empty()) strings_of(r.resolve(*n, Env{}, 0), &v);
      if (!v.empty()) package_python = python_of_basepython(v.front());
    }
  if (const toml::node* skip = tox.get("skip_missing_interpreters"))
    out->skip_missing = skip->value_or(false) || skip->value_or(std::string()) == "true";
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    Env e;
    e.name = name;
    e.line = line_of(list);
    e.factors = factors_of(name);
    // set_env first: `env` replacements elsewhere read it.
    json setenv = r.resolve_key(name, e, "set_env", 0);
    if (setenv.is_null()) setenv = r.resolve_key(name, e, "setenv", 0);
    if (setenv.is_object())
      for (const auto& [k, v] : setenv.items()) e.setenv.emplace_back(k, text_of(v));
    auto key = [&](const char* k, const char* alias = nullptr) {
      json v = r.resolve_key(name, e, k, 0);
      return v.is_null() && alias ? r.resolve_key(name, e, alias, 0) : v;
    };
    strings_of(key("deps"), &e.deps);
    std::erase(e.deps, std::string());  // an `if` without `else` leaves "", which tox skips
    for (const char* k : {"commands_pre", "commands", "commands_post"}) {
      json cmds = key(k);
      if (!cmds.is_array()) continue;
      for (const json& argv : cmds) {
        std::vector<std::string> words;
        strings_of(argv, &words);
        std::string line = command_line(words);
        if (!line.empty()) e.commands.push_back(with_env_name(line, name));
      }
    }
    strings_of(key("depends"), &e.depends);
    // base_python may list several: tox takes the first it finds, CI sets up the first.
    e.skip_install = key("skip_install") == json("true") || key("package") == json("skip");
    if (!e.skip_install) e.package_python = package_python;
    std::vector<std::string> pythons, fallback;
    strings_of(key("base_python", "basepython"), &pythons);
    strings_of(key("default_base_python"), &fallback);
    finish_env(&e, pythons.empty() ? "" : pythons.front(), text_of(key("change_dir", "changedir")),
               fallback.empty() ? "" : fallback.front());
    out->envs.push_back(std::move(e));
  }
  return true;
}

}  // namespace testmap::envs
