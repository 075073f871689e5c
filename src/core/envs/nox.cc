// nox's sessions as environments: the listing from nox, the commands from the session
// functions' tokens. Only what the tokens spell for certain is read; anything else makes the
// session one testmap cannot read, which gets every test and service.
#include "core/envs/nox.h"

#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config/config.h"
#include "core/envs/commands.h"
#include "core/scan/lexer.h"
#include "core/scan/reduce.h"
#include "core/util/capture.h"

namespace testmap::envs {
namespace {

using scan::Tok;
using scan::Token;

// One argument of a call: literal text, an f-string of the session's parameters (its
// `{name}` fields kept to fill in per session), or an expression testmap does not evaluate.
struct Arg {
  enum Kind { kText, kTemplate, kUnknown } kind = kUnknown;
  std::string text;                 // kText
  std::vector<std::string> pieces;  // kTemplate: the text around its fields, one more than
  std::vector<std::string> fields;  // the field names (a parameter, or session.python)
};

struct Call {
  std::vector<Arg> args;
  int line = 0;
};

// What a session function does with its `session`.
struct Body {
  std::vector<Call> runs, installs;
  std::string chdir;
  std::vector<std::string> notified;  // sessions it queues (session.notify), or requires=
  std::string unread;                 // why testmap cannot tell what it runs; "" when it can
};

struct Function {
  std::string session;  // the name nox lists it by
  Body body;
};

// session.ATTR uses that run nothing and install nothing.
const std::set<std::string_view> kHarmless = {
    "posargs",   "python",     "log",          "skip",        "error",        "warn",
    "debug",     "env",        "name",         "interactive", "virtualenv",   "bin",
    "bin_paths", "create_tmp", "invoked_from", "cache_dir",   "venv_backend", "info"};

// The arguments of the call whose `(` is at tokens[i]; *end is past its `)`.
std::vector<Arg> call_args(const std::vector<Token>& t, size_t i, size_t* end,
                           const std::string& param) {
  std::vector<Arg> out;
  size_t k = i + 1;
  int depth = 0;
  std::vector<size_t> starts{k};
  for (; k < t.size(); ++k) {
    if (t[k].kind == Tok::kOp && (t[k].text == "(" || t[k].text == "[" || t[k].text == "{"))
      ++depth;
    else if (t[k].kind == Tok::kOp && (t[k].text == ")" || t[k].text == "]" || t[k].text == "}")) {
      if (depth-- == 0) break;
    } else if (depth == 0 && t[k].is_op(",")) {
      starts.push_back(k + 1);
    }
  }
  *end = k + 1;
  starts.push_back(k + 1);  // one past the `)`, as if a comma stood there
  for (size_t a = 0; a + 1 < starts.size(); ++a) {
    size_t from = starts[a], to = starts[a + 1] - 1;  // [from, to): the argument's tokens
    if (from >= to) continue;                         // a trailing comma
    Arg arg;
    if (to - from >= 2 && t[from].kind == Tok::kName && t[from + 1].is_op("=")) continue;
    if (to - from == 4 && t[from].is_op("*") && t[from + 1].is_name(param) &&
        t[from + 2].is_op(".") && t[from + 3].is_name("posargs"))
      continue;  // CI passes no posargs
    if (to - from == 1 && t[from].kind == Tok::kString) {
      if (scan::plain_string_value(t[from], &arg.text)) arg.kind = Arg::kText;
    } else if (t[from].kind == Tok::kFStringStart && t[to - 1].kind == Tok::kFStringEnd &&
               t[from].text.find_first_of("rRbB") == std::string_view::npos) {
      arg.kind = Arg::kTemplate;
      arg.pieces.emplace_back();
      for (size_t k2 = from + 1; k2 + 1 < to && arg.kind == Arg::kTemplate; ++k2) {
        if (t[k2].kind == Tok::kFStringMiddle &&
            t[k2].text.find_first_of("\\{}") == std::string_view::npos) {
          arg.pieces.back() += t[k2].text;
        } else if (t[k2].is_op("{") && k2 + 2 < to && t[k2 + 1].kind == Tok::kName &&
                   t[k2 + 2].is_op("}")) {
          arg.fields.emplace_back(t[k2 + 1].text);
          arg.pieces.emplace_back();
          k2 += 2;
        } else if (t[k2].is_op("{") && k2 + 4 < to && t[k2 + 1].is_name(param) &&
                   t[k2 + 2].is_op(".") && t[k2 + 3].is_name("python") && t[k2 + 4].is_op("}")) {
          arg.fields.emplace_back("session.python");
          arg.pieces.emplace_back();
          k2 += 4;
        } else {
          arg.kind = Arg::kUnknown;
        }
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

// What the body tokens [from, to) do with `param`.
Body read_body(const std::vector<Token>& t, size_t from, size_t to, const std::string& param) {
  Body b;
  int moved_after_run = 0;  // the line of a chdir after a command, 0 when none
  for (size_t i = from; i < to && b.unread.empty(); ++i) {
    if (!t[i].is_name(param) || (i > 0 && t[i - 1].is_op("."))) continue;
    int line = t[i].line;
    if (i + 2 >= to || !t[i + 1].is_op(".") || t[i + 2].kind != Tok::kName) {
      b.unread = fmt::format("`{}` is passed on at line {}", param, line);
      break;
    }
    std::string attr(t[i + 2].text);
    bool call = i + 3 < to && t[i + 3].is_op("(");
    if ((attr == "run" || attr == "run_always" || attr == "run_install") && call) {
      // A directory changed after a command runs the next ones elsewhere: one directory
      // for the session would misplace some of them.
      if (moved_after_run) {
        b.unread = fmt::format("session.chdir between its commands, line {}", moved_after_run);
        break;
      }
      size_t end;
      b.runs.push_back({call_args(t, i + 3, &end, param), line});
      i = end - 1;
    } else if (attr == "notify" && call) {
      size_t end;
      auto args = call_args(t, i + 3, &end, param);
      if (args.empty() || args[0].kind != Arg::kText) {
        b.unread = fmt::format("session.notify of a session testmap cannot tell, line {}", line);
        break;
      }
      b.notified.push_back(args[0].text);
      i = end - 1;
    } else if ((attr == "install" || attr == "conda_install") && call) {
      size_t end;
      b.installs.push_back({call_args(t, i + 3, &end, param), line});
      i = end - 1;
    } else if ((attr == "chdir" || attr == "cd") && call) {
      if (i > from && t[i - 1].is_name("with")) {  // a block: its commands run elsewhere
        b.unread = fmt::format("`with session.{}` at line {}", attr, line);
        break;
      }
      if (!b.runs.empty()) moved_after_run = line;
      size_t end;
      auto args = call_args(t, i + 3, &end, param);
      if (args.size() != 1 || args[0].kind != Arg::kText) {
        b.unread =
            fmt::format("session.{} to a directory testmap cannot tell, line {}", attr, line);
        break;
      }
      b.chdir = (std::filesystem::path(b.chdir) / args[0].text).lexically_normal().string();
      i = end - 1;
    } else if (!kHarmless.count(attr)) {
      b.unread = fmt::format("session.{} at line {}", attr, line);
    }
  }
  return b;
}

// The session functions of noxfile.py's tokens, by the name nox lists them under.
std::map<std::string, Body> read_functions(const std::vector<Token>& t) {
  std::map<std::string, Body> out;
  size_t decorators_from = 0;  // the first token of the decorators before a def
  bool in_decorators = false;
  for (size_t i = 0; i < t.size(); ++i) {
    bool line_start = i == 0 || t[i - 1].kind == Tok::kNewline || t[i - 1].kind == Tok::kIndent ||
                      t[i - 1].kind == Tok::kDedent;
    if (line_start && t[i].is_op("@")) {
      if (!in_decorators) decorators_from = i;
      in_decorators = true;
      continue;
    }
    if (!(line_start && t[i].is_name("def"))) {
      if (line_start && !t[i].is_op("@")) in_decorators = false;
      continue;
    }
    if (i + 3 >= t.size() || t[i + 1].kind != Tok::kName || !t[i + 2].is_op("(")) continue;
    std::string fname(t[i + 1].text);
    std::string param = t[i + 3].kind == Tok::kName ? std::string(t[i + 3].text) : "";
    // The decorators: each session one names a session (its name=, else the function's);
    // stacked, they name several, all running this function.
    std::vector<std::string> names;
    bool decorator_is_session = false;
    std::string decorator_name;
    auto end_decorator = [&] {
      if (decorator_is_session) names.push_back(decorator_name.empty() ? fname : decorator_name);
      decorator_is_session = false;
      decorator_name.clear();
    };
    std::vector<std::string> required;  // requires=[...]: sessions nox runs before this one
    std::string unread_requires;
    for (size_t k = in_decorators ? decorators_from : i; k < i; ++k) {
      if (t[k].is_op("@") && (k == 0 || t[k - 1].kind == Tok::kNewline ||
                              t[k - 1].kind == Tok::kIndent || t[k - 1].kind == Tok::kDedent))
        end_decorator();
      if (t[k].is_name("session") || t[k].is_name("nox_session")) decorator_is_session = true;
      std::string v;
      if (t[k].is_name("name") && k + 2 < i && t[k + 1].is_op("=")) {
        if (scan::plain_string_value(t[k + 2], &v))
          decorator_name = v;
        else  // a computed name: the sessions nox lists under it are not found, so unread
          decorator_name = "<name at line " + std::to_string(t[k].line) + ">";
      }
      if (t[k].is_name("requires") && k + 2 < i && t[k + 1].is_op("=")) {
        // A list of plain names; anything else (a "tests-{python}" template) is not read.
        size_t m = k + 2;
        bool plain = m < i && t[m].is_op("[");
        for (++m; plain && m < i && !t[m].is_op("]"); ++m)
          if (scan::plain_string_value(t[m], &v) && v.find_first_of("{(") == std::string::npos)
            required.push_back(v);
          else if (!t[m].is_op(","))
            plain = false;
        if (!plain) unread_requires = fmt::format("requires= at line {}", t[k].line);
      }
    }
    end_decorator();
    in_decorators = false;
    // The body: from the `:` that ends the signature to the end of its block.
    size_t k = i + 3;
    for (int depth = 1; k < t.size() && depth > 0; ++k)
      if (t[k].is_op("(") || t[k].is_op("[") || t[k].is_op("{"))
        ++depth;
      else if (t[k].is_op(")") || t[k].is_op("]") || t[k].is_op("}"))
        --depth;
    while (k < t.size() && !t[k].is_op(":")) ++k;
    size_t from = k + 1, to = from;
    if (from + 1 < t.size() && t[from].kind == Tok::kNewline && t[from + 1].kind == Tok::kIndent) {
      int depth = 0;
      for (to = from + 1; to < t.size(); ++to) {
        if (t[to].kind == Tok::kIndent) ++depth;
        if (t[to].kind == Tok::kDedent && --depth == 0) break;
      }
    } else {  // def f(session): session.run(...)
      while (to < t.size() && t[to].kind != Tok::kNewline) ++to;
    }
    if (!names.empty() && !param.empty()) {
      Body b = read_body(t, from, to, param);
      if (b.unread.empty()) b.unread = unread_requires;
      b.notified.insert(b.notified.begin(), required.begin(), required.end());
      for (const auto& name : names) out[name] = b;
    }
  }
  return out;
}

// An argument as one session gives it.
std::string arg_text(const Arg& a, const std::map<std::string, std::string>& values,
                     const std::string& python, bool* known) {
  if (a.kind == Arg::kText) return a.text;
  if (a.kind == Arg::kTemplate) {
    std::string out = a.pieces.empty() ? "" : a.pieces[0];
    for (size_t f = 0; f < a.fields.size() && f + 1 < a.pieces.size(); ++f) {
      const std::string& name = a.fields[f];
      auto it = values.find(name);
      if (name == "session.python" && !python.empty()) {
        out += python;
      } else if (it != values.end()) {
        out += it->second;
      } else {
        *known = false;
        return "";
      }
      out += a.pieces[f + 1];
    }
    return out;
  }
  *known = false;
  return "";
}

std::string json_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

}  // namespace

bool read_nox_listing(std::string_view listing, std::string_view noxfile, ToxConfig* out,
                      Diagnostic* error) {
  nlohmann::json doc = nlohmann::json::parse(listing, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) {
    *error = {"noxfile.py", 0, "", "`nox --list --json` did not print a JSON list of sessions"};
    return false;
  }
  scan::Lexer lexer(noxfile);
  std::vector<Token> tokens;
  for (Token t = lexer.next(); t.kind != Tok::kEnd; t = lexer.next()) tokens.push_back(t);
  std::map<std::string, Body> functions;
  std::string unreadable;
  if (lexer.failed())
    unreadable = fmt::format("noxfile.py:{}: {}", lexer.error_line(), lexer.error());
  else
    functions = read_functions(tokens);
  out->file = "noxfile.py";
  out->tool = "nox";
  std::set<std::string> seen;
  for (const auto& s : doc) {
    if (!s.is_object() || !s.contains("session") || !s["session"].is_string()) continue;
    Env e;
    e.name = s["session"].get<std::string>();
    if (!seen.insert(e.name).second) continue;
    e.session = s.contains("name") && s["name"].is_string() ? s["name"].get<std::string>() : e.name;
    if (s.contains("python") && s["python"].is_string()) e.python = s["python"].get<std::string>();
    std::map<std::string, std::string> values;
    if (s.contains("call_spec") && s["call_spec"].is_object())
      for (const auto& [k, v] : s["call_spec"].items()) {
        e.params.emplace_back(k, json_text(v));
        values[k] = json_text(v);
      }
    auto fn = functions.find(e.session);
    std::string unread = !unreadable.empty()     ? unreadable
                         : fn == functions.end() ? "its function is not found in noxfile.py"
                                                 : fn->second.unread;
    // The sessions it queues or requires run in the same nox run: their commands count as
    // its own (parameters they take are not known here).
    std::vector<const Body*> bodies;
    if (unread.empty()) {
      std::vector<std::string> todo{e.session};
      std::set<std::string> done;
      while (!todo.empty() && unread.empty()) {
        std::string name = todo.back();
        todo.pop_back();
        if (!done.insert(name).second) continue;
        auto it = functions.find(name);
        if (it == functions.end())
          unread = fmt::format("session {} it runs is not found in noxfile.py", name);
        else if (!it->second.unread.empty())
          unread = it->second.unread;
        else if (it->second.chdir != fn->second.chdir)
          unread = fmt::format("session {} it runs works in another directory", name);
        else
          bodies.push_back(&it->second);
        if (it != functions.end())
          todo.insert(todo.end(), it->second.notified.begin(), it->second.notified.end());
      }
    }
    if (!unread.empty()) {
      // A command no reader knows: `testmap envs` names it, and it gets every test.
      e.commands.push_back(fmt::format("\"<{}>\"", unread));
      out->envs.push_back(std::move(e));
      continue;
    }
    const Body& b = fn->second;
    e.changedir = b.chdir == "." ? "" : b.chdir;
    for (const Call& c : b.installs)
      for (const Arg& a : c.args) {
        bool known = true;
        std::string text = arg_text(a, values, e.python, &known);
        e.deps.push_back(known ? text : "<expression>");
      }
    std::vector<const Call*> runs;
    for (const Body* other : bodies)
      for (const Call& c : other->runs) runs.push_back(&c);
    for (const Call* call : runs) {
      const Call& c = *call;
      std::vector<std::string> words;
      for (const Arg& a : c.args) {
        bool known = true;
        std::string text = arg_text(a, values, e.python, &known);
        // An argument testmap cannot evaluate: as a program, the command is unread; as a
        // pytest argument, a path that is not there, which means the whole suite.
        words.push_back(known ? text : fmt::format("<expression at line {}>", c.line));
      }
      if (!words.empty()) e.commands.push_back(command_line(words));
    }
    out->envs.push_back(std::move(e));
  }
  if (out->envs.empty()) {
    *error = {"noxfile.py", 0, "", "nox lists no session that runs by default"};
    return false;
  }
  return true;
}

bool read_nox(const std::string& root, ToxConfig* out, Diagnostic* error) {
  namespace fs = std::filesystem;
  std::string noxfile;
  if (!config::read_text((fs::path(root) / "noxfile.py").string(), &noxfile)) {
    *error = {root, 0, "", "no noxfile.py"};
    return false;
  }
  util::Captured c = util::capture(root, {"nox", "--list", "--json"});
  if (!c.ran) {
    *error = {"noxfile.py", 0, "",
              "nox is not installed here (`pip install nox`): testmap asks it for the sessions, "
              "with `nox --list --json`"};
    return false;
  }
  if (c.status != 0) {
    // nox's last line says what went wrong (the noxfile's own error, say).
    std::string err = c.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    std::string last = err.substr(err.rfind('\n') == std::string::npos ? 0 : err.rfind('\n') + 1);
    *error = {"noxfile.py", 0, "",
              fmt::format("`nox --list --json` failed (exit {}): {}", c.status, last)};
    return false;
  }
  return read_nox_listing(c.out, noxfile, out, error);
}

}  // namespace testmap::envs
