// Parsing [tool.testmap.lint] (docs/lint.md): each rule kind is a table keyed by what it
// matches, whose values are a message, a list, or a table with the rule's options.
#include <fmt/format.h>

#include <set>

#include "core/config/lint_config.h"

namespace testmap::config {

namespace {

struct LintReader {
  std::string file;
  Diagnostics& diags;

  void error(const toml::node* node, const std::string& key, const std::string& message) {
    int line = node ? static_cast<int>(node->source().begin.line) : 0;
    diags.push_back({file, line, key, message});
  }

  // A non-empty string, or an error.
  std::string text(const toml::node& node, const std::string& key) {
    auto s = node.value_exact<std::string>();
    if (!s || s->empty()) error(&node, key, "expected a non-empty string");
    return s ? *s : "";
  }

  std::vector<std::string> strings(const toml::node& node, const std::string& key) {
    std::vector<std::string> out;
    const auto* arr = node.as_array();
    if (!arr) {
      error(&node, key, "expected a list of strings");
      return out;
    }
    for (const auto& item : *arr) {
      auto s = item.value_exact<std::string>();
      if (s && !s->empty())
        out.push_back(*s);
      else
        error(&item, key, "expected a non-empty string in this list");
    }
    if (arr->empty()) error(&node, key, "expected at least one pattern");
    return out;
  }

  // The long form `{ <list_key> = [...], message = "...", paths = [...] }`: fills what it
  // names; an unknown key is an error. `list_key` empty: no list.
  bool options(const toml::table& t, const std::string& key, std::string_view list_key,
               std::vector<std::string>* list, std::string* message,
               std::vector<std::string>* paths, bool list_required = true,
               std::vector<std::string>* instead = nullptr) {
    bool ok = true;
    for (const auto& [k, v] : t) {
      std::string sub = fmt::format("{}.{}", key, k.str());
      if (!list_key.empty() && k.str() == list_key) {
        *list = strings(v, sub);
      } else if (k.str() == "message") {
        *message = text(v, sub);
      } else if (k.str() == "paths" && paths) {
        *paths = strings(v, sub);
      } else if (k.str() == "instead" && instead) {
        *instead = strings(v, sub);
      } else {
        std::string known = list_key.empty() ? "" : std::string(list_key) + ", ";
        known += instead ? "instead, " : "";
        known += paths ? "message, paths" : "message";
        error(&v, sub, fmt::format("unknown key (known: {})", known));
        ok = false;
      }
    }
    if (!list_key.empty() && list_required && !t.contains(list_key)) {
      error(&t, key, fmt::format("expected a {} list", list_key));
      ok = false;
    }
    return ok;
  }
};

}  // namespace

std::vector<std::string> default_costly_reasons() {
  return {"threading.*", "multiprocessing.*", "concurrent.futures.*", "*.on_commit",
          "subprocess.*"};
}

void load_lint_table(const toml::node& node, const std::string& file, LintRules& out,
                     Diagnostics& diags) {
  LintReader r{file, diags};
  const std::string key = "tool.testmap.lint";
  const auto* lint = node.as_table();
  if (!lint) return r.error(&node, key, "expected a table");
  for (const auto& [k, v] : *lint) {
    std::string kind = std::string(k.str());
    std::string at = fmt::format("{}.{}", key, kind);
    if (kind == "new-test-file") {
      if (auto b = v.value_exact<bool>())
        out.new_test_file = *b;
      else
        r.error(&v, at, "expected true or false");
      continue;
    }
    static const std::set<std::string, std::less<>> kKinds = {
        "banned-calls", "forbid-inside", "forbid-imports", "base-classes", "costly-bases"};
    if (!kKinds.count(kind)) {
      r.error(&v, at,
              "unknown key (known: banned-calls, forbid-inside, forbid-imports, base-classes, "
              "costly-bases, new-test-file)");
      continue;
    }
    const auto* table = v.as_table();
    if (!table) {
      r.error(&v, at, "expected a table");
      continue;
    }
    for (const auto& [name_key, value] : *table) {
      std::string name(name_key.str());
      std::string rule = fmt::format("{}.\"{}\"", at, name);
      if (name.empty()) {
        r.error(&value, rule, "expected a non-empty pattern");
        continue;
      }
      const auto* opts = value.as_table();
      if (kind == "banned-calls") {
        BannedCall b{name, "", {}};
        if (opts) {
          if (!r.options(*opts, rule, "", nullptr, &b.message, &b.paths)) continue;
          if (b.message.empty()) r.error(&value, rule, "expected a message");
        } else {
          b.message = r.text(value, rule);
        }
        if (!b.message.empty()) out.banned_calls.push_back(std::move(b));
      } else if (kind == "forbid-inside") {
        ForbidInside f{name, {}, "", {}};
        if (opts ? !r.options(*opts, rule, "calls", &f.calls, &f.message, &f.paths)
                 : (f.calls = r.strings(value, rule), false))
          continue;
        if (!f.calls.empty()) out.forbid_inside.push_back(std::move(f));
      } else if (kind == "forbid-imports") {
        ForbidImports f{name, {}, ""};
        if (opts ? !r.options(*opts, rule, "imports", &f.imports, &f.message, nullptr)
                 : (f.imports = r.strings(value, rule), false))
          continue;
        if (!f.imports.empty()) out.forbid_imports.push_back(std::move(f));
      } else if (kind == "base-classes") {
        BaseClasses b{name, {}, ""};
        if (opts ? !r.options(*opts, rule, "bases", &b.bases, &b.message, nullptr)
                 : (b.bases = r.strings(value, rule), false))
          continue;
        if (!b.bases.empty()) out.base_classes.push_back(std::move(b));
      } else {  // costly-bases
        CostlyBase c{name, {}, {}, "", {}};
        if (auto b = value.value_exact<bool>()) {
          if (!*b) continue;
          c.reasons = default_costly_reasons();
        } else if (opts) {
          c.reasons = default_costly_reasons();  // unless the table lists its own
          if (!r.options(*opts, rule, "reasons", &c.reasons, &c.message, &c.paths, false,
                         &c.instead))
            continue;
        } else {
          c.reasons = r.strings(value, rule);
        }
        if (!c.reasons.empty()) out.costly_bases.push_back(std::move(c));
      }
    }
  }
}

}  // namespace testmap::config
