// The outline parser: reads logical lines from the lexer and keeps a stack of open
// class and function scopes by indentation. It looks at statement heads only, so
// it needs no grammar for expressions and never recurses on input nesting.
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "core/scan/lexer.h"
#include "core/scan/reduce.h"
#include "core/scan/scanner.h"
#include "core/scan/source.h"

namespace testmap::scan {
namespace {

struct HashState {
  XXH3_state_t* state = XXH3_createState();
  HashState() { XXH3_64bits_reset(state); }
  ~HashState() { XXH3_freeState(state); }
  HashState(const HashState&) = delete;
  HashState& operator=(const HashState&) = delete;
  void feed(const void* p, size_t n) { XXH3_64bits_update(state, p, n); }
  uint64_t digest() const { return XXH3_64bits_digest(state); }
};

struct Scope {
  enum Kind { kModule, kClass, kFunction } kind = kModule;
  int index = -1;      // into Outline::classes or ::functions
  int body_depth = 0;  // block depth of the body's statements
  std::string qualname;
  std::unique_ptr<HashState> hash;
  // Modules and classes: the lines of their own body, not their functions' (nor nested
  // classes'): what a change to a constant or a class attribute changes.
  std::unique_ptr<HashState> own;
  std::set<std::string> calls;
  std::set<std::string> attr_calls;
  std::set<std::string, std::less<>> body_names;  // a class's: names its own lines read
};

// Keywords that open a compound statement (def and class are handled apart).
bool is_compound_keyword(std::string_view n) {
  switch (n.size()) {
    case 2:
      return n == "if";
    case 3:
      return n == "for" || n == "try";
    case 4:
      return n == "elif" || n == "else" || n == "with";
    case 5:
      return n == "while";
    case 6:
      return n == "except";
    case 7:
      return n == "finally";
    default:
      return false;
  }
}

class OutlineParser {
 public:
  OutlineParser(std::string_view text, Outline& out, ScanOptions options)
      : lexer_(text), out_(out), sites_(options.call_sites), hashes_(options.hashes) {
    scopes_.emplace_back();
    scopes_.back().own = std::make_unique<HashState>();
  }

  void run() {
    for (;;) {
      Token t = lexer_.next();
      if (t.kind == Tok::kEnd) break;
      if (t.kind == Tok::kIndent) {
        if (!expect_indent_) return fail(t.line, "unexpected indent");
        expect_indent_ = false;
        ++depth_;
        continue;
      }
      if (t.kind == Tok::kDedent) {
        --depth_;
        close_scopes_deeper_than(depth_);
        continue;
      }
      if (expect_indent_) return fail(t.line, "expected an indented block");
      line_.clear();
      spilled_ = false;
      while (t.kind != Tok::kNewline && t.kind != Tok::kEnd) {
        if (line_.size() >= kSpillTokens) spill();
        // Field by field: a whole-struct copy reads the just-returned token with wider
        // loads than the lexer wrote it with, which stalls store forwarding (~15% of scan).
        Token& d = line_.emplace_back();
        std::memcpy(&d.text, &t.text, sizeof t.text);
        d.kind = t.kind;
        d.line = t.line;
        d.end_line = t.end_line;
        d.col = t.col;
        t = lexer_.next();
      }
      if (line_.empty()) continue;
      if (spilled_)
        finish_spilled_line();
      else
        process_line();
      for (const auto& tok : line_) last_end_line_ = std::max(last_end_line_, tok.end_line);
      if (failed_) return;
      if (t.kind == Tok::kEnd) break;
    }
    if (lexer_.failed() && !lexer_.error().empty()) fail(lexer_.error_line(), lexer_.error());
    finish();
  }

 private:
  void fail(int line, std::string message) {
    if (!failed_) {
      failed_ = true;
      out_.error_line = line;
      out_.error = std::move(message);
    }
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    close_scopes_deeper_than(-1);
    out_.module_hash = scopes_.front().own->digest();
    for (const auto& [name, h] : bindings_) out_.bindings.emplace_back(name, h->digest());
    out_.import_time_names.assign(import_time_names_.begin(), import_time_names_.end());
  }

  bool in_function() const {
    for (const auto& s : scopes_)
      if (s.kind == Scope::kFunction) return true;
    return false;
  }

  void close_top() {
    Scope& s = scopes_.back();
    uint64_t h = s.hash ? s.hash->digest() : 0;
    if (s.kind == Scope::kClass) {
      out_.classes[s.index].end_line = last_end_line_;
      out_.classes[s.index].hash = h;
      out_.classes[s.index].own_hash = s.own->digest();
      out_.classes[s.index].import_time_names.assign(s.body_names.begin(), s.body_names.end());
    } else if (s.kind == Scope::kFunction) {
      auto& f = out_.functions[s.index];
      f.end_line = last_end_line_;
      f.hash = h;
      f.calls.assign(s.calls.begin(), s.calls.end());
      f.attr_calls.assign(s.attr_calls.begin(), s.attr_calls.end());
    }
    scopes_.pop_back();
  }

  void close_scopes_deeper_than(int depth) {
    while (scopes_.size() > 1 && scopes_.back().body_depth > depth) close_top();
  }

  // Every open scope hashes the line, with its block depth standing for indentation:
  // comments, blank lines and continuation layout never reach the hash.
  void hash_line(Tokens tokens) {
    hash_start();
    hash_more(tokens);
    hash_flush();
  }
  // A def or class line in a class body is part of that class's own lines too: a method
  // added to a subclass changes what its instances do.
  void hash_header(Tokens tokens) {
    header_ = true;
    hash_line(tokens);
    header_ = false;
  }
  void hash_start() {
    if (hashes_) line_buf_.assign(reinterpret_cast<const char*>(&depth_), sizeof depth_);
  }
  void hash_more(Tokens tokens) {
    if (!hashes_) return;
    for (const auto& tok : tokens) {
      line_buf_.push_back(static_cast<char>(tok.kind));
      line_buf_.append(tok.text);
    }
  }
  // The hash is a stream: a line fed in pieces hashes as the same line fed whole.
  void hash_flush() {
    if (!hashes_) return;
    for (auto& s : scopes_)
      if (s.hash) s.hash->feed(line_buf_.data(), line_buf_.size());
    if (binding_)
      binding_->feed(line_buf_.data(), line_buf_.size());
    else if (scopes_.back().own)
      scopes_.back().own->feed(line_buf_.data(), line_buf_.size());
    if (header_ && scopes_.size() >= 2) {
      Scope& parent = scopes_[scopes_.size() - 2];
      if (parent.kind == Scope::kClass) parent.own->feed(line_buf_.data(), line_buf_.size());
    }
    if (pending_hash_) pending_hash_->feed(line_buf_.data(), line_buf_.size());
    line_buf_.clear();
  }

  // A logical line of more than kSpillTokens tokens (a data literal of megabytes) is not
  // kept whole: memory would grow to 40 bytes a token. Its tokens are hashed and searched
  // for calls as they come, and it counts as a simple statement (a `def` or `pytestmark`
  // of a quarter of a million tokens is no real test file's).
  static constexpr size_t kSpillTokens = size_t{1} << 18;
  static constexpr size_t kKeep = 1024;  // kept across a spill: a call's name and '(' meet

  void spill() {
    if (!spilled_) {
      spilled_ = true;
      spill_head_ = line_.front();
      pending_decorators_.clear();
      pending_hash_.reset();
      hash_start();
      hashed_ = 0;
    }
    Tokens t(line_);
    hash_more(t.subspan(hashed_));
    hash_flush();
    size_t n = t.size() - kKeep;
    add_calls(t.first(n));
    for (size_t i = 0; i < n; ++i) last_end_line_ = std::max(last_end_line_, t[i].end_line);
    // Calls found twice in the kept tokens are one entry in the sets.
    size_t drop = n - kKeep;
    line_.erase(line_.begin(), line_.begin() + static_cast<long>(drop));
    hashed_ = line_.size();
  }
  void finish_spilled_line() {
    Tokens t(line_);
    hash_more(t.subspan(hashed_));
    hash_flush();
    add_calls(t);
    // A block still follows a header that spilled (`for x in [...]:`).
    bool header = spill_head_.kind == Tok::kName &&
                  (is_compound_keyword(spill_head_.text) || spill_head_.text == "def" ||
                   spill_head_.text == "class" || spill_head_.text == "async" ||
                   spill_head_.text == "match" || spill_head_.text == "case");
    if (header && t.back().is_op(":")) expect_indent_ = true;
  }

  // `NAME = value` or `NAME: T [= value]` with one target, at the module's top level (not
  // in a block): its name, else empty.
  std::string_view top_binding(Tokens t) const {
    if (scopes_.size() != 1 || depth_ != 0 || t.size() < 2 || t[0].kind != Tok::kName ||
        is_keyword(t[0].text) || !(t[1].is_op("=") || t[1].is_op(":")))
      return {};
    int nesting = 0, equals = 0;
    for (size_t i = 1; i < t.size(); ++i) {
      if (t[i].kind != Tok::kOp) continue;
      std::string_view x = t[i].text;
      if (x == "(" || x == "[" || x == "{") ++nesting;
      if (x == ")" || x == "]" || x == "}") --nesting;
      // `a = b = 1`, `a = lambda x=1: x` and `a = 1; b = 2` bind or hide more than one name.
      if (nesting == 0 && (x == "=" || x == ";")) ++equals;
      if (nesting == 0 && x == ";") return {};
    }
    return equals <= 1 ? t[0].text : std::string_view();
  }

  // Names read by code that runs at import time, attributes included (`m.LIMIT`): every
  // line outside a function body, but for imports and a binding's own target.
  // A class body's lines go to that class: what they read changes the class, which the
  // tests that met it recorded.
  void note_import_time_names(Tokens t, bool skip_first) {
    Scope& scope = scopes_.back();
    if (scope.kind == Scope::kFunction) return;
    if (t[0].is_name("import") || t[0].is_name("from")) return;
    auto& names = scope.kind == Scope::kClass ? scope.body_names : import_time_names_;
    for (size_t i = skip_first ? 1 : 0; i < t.size(); ++i)
      if (t[i].kind == Tok::kName && !is_keyword(t[i].text)) names.emplace(t[i].text);
  }

  // `if TYPE_CHECKING:` (or `typing.`, `t.` before it): its body never runs.
  static bool is_type_checking_if(Tokens t) {
    if (t.size() < 3 || !t[0].is_name("if") || !t.back().is_op(":")) return false;
    Tokens cond = t.subspan(1, t.size() - 2);
    if (cond.size() == 1) return cond[0].is_name("TYPE_CHECKING");
    return cond.size() == 3 && cond[0].kind == Tok::kName && cond[1].is_op(".") &&
           cond[2].is_name("TYPE_CHECKING");
  }

  void process_line() {
    Tokens t(line_);
    if (sites_) close_withs();
    // A line back at the `if`'s depth (its else, or what follows) ends the block.
    if (type_checking_depth_ >= 0 && depth_ < type_checking_depth_) type_checking_depth_ = -1;
    if (type_checking_depth_ < 0 && is_type_checking_if(t)) type_checking_depth_ = depth_ + 1;
    std::string_view binding = top_binding(t);
    note_import_time_names(t, !binding.empty());
    if (t[0].is_op("@")) {
      if (!pending_hash_) pending_hash_ = std::make_unique<HashState>();
      hash_line(t);
      pending_decorators_.push_back(reduce(t.subspan(1)));
      return;
    }
    size_t k = 0;
    bool is_async = false;
    if (t[0].is_name("async") && t.size() > 1 && t[1].is_name("def")) {
      is_async = true;
      k = 1;
    }
    if (t[k].is_name("def")) return open_def(t, k, is_async);
    if (t[k].is_name("class")) return open_class(t);
    pending_decorators_.clear();
    pending_hash_.reset();
    if (!binding.empty()) {
      auto it = bindings_.find(binding);
      if (it == bindings_.end())
        it = bindings_.emplace(std::string(binding), std::make_unique<HashState>()).first;
      binding_ = it->second.get();
    }
    hash_line(t);
    binding_ = nullptr;

    bool compound = t[0].kind == Tok::kName && is_compound_keyword(t[0].text);
    if (t[0].is_name("async") && t.size() > 1 && (t[1].is_name("for") || t[1].is_name("with")))
      compound = true;
    bool soft = (t[0].is_name("match") || t[0].is_name("case")) && t.size() >= 3 &&
                t.back().is_op(":") && !t[1].is_op("=") && !t[1].is_op(".") && !t[1].is_op(":");
    if (!compound && !soft) return simple_statements(t);

    size_t colon = header_colon(t);
    size_t calls_from = soft ? 1 : 0;
    if (t[0].is_name("case")) {
      calls_from = colon;  // a pattern is not a call; only its guard has calls
      for (size_t i = 1; i < colon; ++i)
        if (t[i].is_name("if") && depth_at(t, i) == 0) {
          calls_from = i + 1;
          break;
        }
    }
    bool with = sites_ && (t[0].is_name("with") || (t[0].is_name("async") && t[1].is_name("with")));
    if (with)
      open_with(t.subspan(t[0].is_name("with") ? 1 : 2,
                          std::min(colon, t.size()) - (t[0].is_name("with") ? 1 : 2)));
    else
      add_calls(t.subspan(calls_from, std::min(colon, t.size()) - calls_from));
    if (colon + 1 >= t.size()) {
      expect_indent_ = true;
    } else {
      simple_statements(t.subspan(colon + 1));
      if (with) open_withs_.pop_back();  // `with a(): b()`: its body was that line
    }
  }

  // testmap lint: a `with` block is open until a line comes back to its header's depth; it
  // holds the calls of its own scope only (not those of a def inside it).
  struct OpenWith {
    int depth;
    size_t scope_level;
    std::vector<int> items;
  };

  void close_withs() {
    while (!open_withs_.empty() && open_withs_.back().depth >= depth_) open_withs_.pop_back();
  }

  // The items of a `with` header (without `with` and the colon), each evaluated inside the
  // ones before it: `with a(), b():` calls b inside a.
  void open_with(Tokens header) {
    open_withs_.push_back({depth_, scopes_.size(), {}});
    // `with (a() as x, b()):` (3.10+) and `with (a(), b()):`; `with (a()):` is the same item.
    if (!header.empty() && header[0].is_op("(") && matching_close(header, 0) == header.size() - 1)
      header = header.subspan(1, header.size() - 2);
    for (Tokens item : split_top(header, ",")) {
      add_calls(item);
      WithItem w;
      w.line = item.empty() ? 0 : item[0].line;
      w.col = item.empty() ? 0 : item[0].col;
      // The dotted name the item starts with; parentheses around it change nothing
      // (`(f)()`, `(a).b()`).
      std::string name;
      size_t end = 0;
      if (!item.empty() && item[0].is_op("(")) {
        size_t close = matching_close(item, 0);
        if (close < item.size() && close > 1 && dotted_end(item, 1) == close) {
          name = dotted_text(item, 1, close);
          for (end = close + 1; end + 1 < item.size() && item[end].is_op(".") &&
                                item[end + 1].kind == Tok::kName && !is_keyword(item[end + 1].text);
               end += 2)
            name += "." + std::string(item[end + 1].text);
        }
      } else if (!item.empty()) {
        end = dotted_end(item, 0);
        if (end > 0) name = dotted_text(item, 0, end);
      }
      // `cm(...)` or `cm`, alone or before `as`: `with s.accept()[0] as c:` enters no `accept`.
      auto alone = [&](size_t i) { return i == item.size() || item[i].is_name("as"); };
      size_t close = end < item.size() && item[end].is_op("(") ? matching_close(item, end) : 0;
      bool call = !name.empty() && close > 0 && close < item.size() && alone(close + 1);
      bool plain = !name.empty() && alone(end);
      if (call || plain) w.name = std::move(name);
      out_.withs.push_back(std::move(w));
      open_withs_.back().items.push_back(static_cast<int>(out_.withs.size()) - 1);
    }
  }

  void add_site(std::string name, const Token& at) {
    CallSite c;
    c.name = std::move(name);
    c.line = at.line;
    c.col = at.col;
    for (size_t i = scopes_.size(); i-- > 0;)
      if (scopes_[i].kind == Scope::kFunction) {
        c.function = scopes_[i].index;
        break;
      }
    for (const auto& w : open_withs_)
      if (w.scope_level == scopes_.size())
        c.withs.insert(c.withs.end(), w.items.begin(), w.items.end());
    out_.call_sites.push_back(std::move(c));
  }

  static int depth_at(Tokens t, size_t i) {
    int depth = 0;
    for (size_t k = 0; k < i; ++k) {
      if (t[k].kind != Tok::kOp) continue;
      auto x = t[k].text;
      if (x == "(" || x == "[" || x == "{")
        ++depth;
      else if (x == ")" || x == "]" || x == "}")
        --depth;
    }
    return depth;
  }

  // The ':' that ends a compound statement's header (skipping lambdas' colons).
  static size_t header_colon(Tokens t) {
    int depth = 0, lambdas = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].kind == Tok::kName && t[i].text == "lambda" && depth == 0) ++lambdas;
      if (t[i].kind != Tok::kOp) continue;
      auto x = t[i].text;
      if (x == "(" || x == "[" || x == "{")
        ++depth;
      else if (x == ")" || x == "]" || x == "}")
        --depth;
      else if (x == ":" && depth == 0) {
        if (lambdas > 0)
          --lambdas;
        else
          return i;
      }
    }
    return t.size();
  }

  std::string qualify(std::string_view name) const {
    const auto& q = scopes_.back().qualname;
    return q.empty() ? std::string(name) : q + "." + std::string(name);
  }

  void open_scope(Scope::Kind kind, int index, std::string qualname) {
    Scope s;
    s.kind = kind;
    s.index = index;
    s.body_depth = depth_ + 1;
    s.qualname = std::move(qualname);
    s.hash = pending_hash_ ? std::move(pending_hash_) : std::make_unique<HashState>();
    if (kind == Scope::kClass) s.own = std::make_unique<HashState>();
    pending_hash_.reset();
    pending_decorators_.clear();
    scopes_.push_back(std::move(s));
  }

  // After `def`/`class` headers: either a block follows, or statements on the same line.
  void after_header(Tokens t, size_t colon) {
    if (colon + 1 >= t.size()) {
      expect_indent_ = true;
      return;
    }
    simple_statements(t.subspan(colon + 1));
    for (const auto& tok : t) last_end_line_ = std::max(last_end_line_, tok.end_line);
    close_top();
  }

  // Skips PEP 695 type parameters `[T]` after a name.
  static size_t skip_type_params(Tokens t, size_t i) {
    if (i < t.size() && t[i].is_op("[")) return matching_close(t, i) + 1;
    return i;
  }

  void open_def(Tokens t, size_t k, bool is_async) {
    if (k + 1 >= t.size() || t[k + 1].kind != Tok::kName)
      return fail(t[k].line, "invalid syntax: def without a name");
    Function f;
    f.name = std::string(t[k + 1].text);
    f.qualname = qualify(f.name);
    f.is_async = is_async;
    f.line = t[0].line;  // the `async` token, as ast says
    f.in_function = in_function();
    if (scopes_.back().kind == Scope::kClass) f.parent_class = scopes_.back().index;
    f.decorators = std::move(pending_decorators_);
    size_t open = skip_type_params(t, k + 2);
    if (open >= t.size() || !t[open].is_op("("))
      return fail(t[k].line, "invalid syntax: expected '(' after def " + f.name);
    size_t close = matching_close(t, open);
    if (close >= t.size()) return fail(t[k].line, "invalid syntax in parameters of " + f.name);
    parse_params(t.subspan(open + 1, close - open - 1), f);
    size_t colon = close + 1;
    while (colon < t.size() && !(t[colon].is_op(":") && depth_at(t, colon) == 0)) ++colon;
    if (colon >= t.size())
      return fail(t[k].line, "invalid syntax: expected ':' after def " + f.name);
    out_.functions.push_back(std::move(f));
    open_scope(Scope::kFunction, static_cast<int>(out_.functions.size()) - 1,
               out_.functions.back().qualname);
    hash_header(t);
    after_header(t, colon);
  }

  static void parse_params(Tokens params, Function& f) {
    bool after_star = false;
    for (Tokens p : split_top(params, ",")) {
      if (p[0].is_op("/")) continue;
      if (p[0].is_op("*")) {
        after_star = true;
        if (p.size() > 1 && p[1].kind == Tok::kName)
          f.params.push_back("*" + std::string(p[1].text));
        continue;
      }
      if (p[0].is_op("**")) {
        if (p.size() > 1) f.params.push_back("**" + std::string(p[1].text));
        continue;
      }
      if (p[0].kind != Tok::kName) continue;
      f.params.emplace_back(p[0].text);
      if (!after_star && !split_top(p, "=").empty() && split_top(p, "=").size() > 1) ++f.defaults;
    }
  }

  void open_class(Tokens t) {
    if (t.size() < 2 || t[1].kind != Tok::kName)
      return fail(t[0].line, "invalid syntax: class without a name");
    Class c;
    c.name = std::string(t[1].text);
    c.qualname = qualify(c.name);
    c.line = t[0].line;
    c.col = t[0].col;
    c.in_function = in_function();
    if (scopes_.back().kind == Scope::kClass) c.parent = scopes_.back().index;
    c.decorators = std::move(pending_decorators_);
    size_t i = skip_type_params(t, 2);
    if (i < t.size() && t[i].is_op("(")) {
      size_t close = matching_close(t, i);
      if (close >= t.size()) return fail(t[0].line, "invalid syntax in bases of " + c.name);
      for (Tokens arg : split_top(t.subspan(i + 1, close - i - 1), ",")) {
        if (arg[0].is_op("**"))
          c.keywords.push_back("**");
        else if (arg[0].is_op("*"))
          c.bases.push_back(reduce({}));
        else if (arg.size() >= 2 && arg[0].kind == Tok::kName && arg[1].is_op("="))
          c.keywords.emplace_back(arg[0].text);
        else
          c.bases.push_back(reduce(arg, true));
      }
      i = close + 1;
    }
    if (i >= t.size() || !t[i].is_op(":"))
      return fail(t[0].line, "invalid syntax: expected ':' after class " + c.name);
    out_.classes.push_back(std::move(c));
    open_scope(Scope::kClass, static_cast<int>(out_.classes.size()) - 1,
               out_.classes.back().qualname);
    hash_header(t);
    after_header(t, i);
  }

  void simple_statements(Tokens t) {
    bool semicolon = false;
    for (const auto& tok : t) semicolon |= tok.kind == Tok::kOp && tok.text == ";";
    if (!semicolon) return simple_statement(t);
    for (Tokens stmt : split_top(t, ";")) simple_statement(stmt);
  }

  void simple_statement(Tokens t) {
    if (t[0].is_name("import")) return parse_import(t);
    if (t[0].is_name("from")) return parse_from(t);
    add_calls(t);
    Scope& scope = scopes_.back();
    if (scope.kind != Scope::kFunction) parse_assignment(t, scope);
  }

  void add_calls(Tokens t) {
    Scope* fn = scopes_.back().kind == Scope::kFunction ? &scopes_.back() : nullptr;
    if (!fn && !(sites_ && !spilled_)) return;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].is_op("(") &&
          (i == 0 || !((t[i - 1].kind == Tok::kName && !is_keyword(t[i - 1].text)) ||
                       t[i - 1].is_op(")") || t[i - 1].is_op("]")))) {
        // `(f)()` and `(a).b()` call `f` and `a.b`: parentheses around a name change nothing.
        size_t close = matching_close(t, i);
        if (close < t.size() && close > i + 1 && dotted_end(t, i + 1) == close) {
          std::string name = dotted_text(t, i + 1, close);
          size_t j = close + 1;
          while (j + 1 < t.size() && t[j].is_op(".") && t[j + 1].kind == Tok::kName &&
                 !is_keyword(t[j + 1].text)) {
            name += "." + std::string(t[j + 1].text);
            j += 2;
          }
          if (j < t.size() && t[j].is_op("(")) {
            // Where ast puts the callee: `(f)()` at f, `(a).b()` at the parenthesis.
            if (sites_ && !spilled_) add_site(name, j == close + 1 ? t[i + 1] : t[i]);
            if (fn) fn->calls.insert(std::move(name));
          }
        }
        continue;
      }
      if (t[i].kind != Tok::kName) continue;
      if (i > 0 && t[i - 1].is_op(".")) {
        if (fn && i >= 2 && (t[i - 2].is_op(")") || t[i - 2].is_op("]")) && i + 1 < t.size() &&
            t[i + 1].is_op("("))
          fn->attr_calls.insert(std::string(t[i].text));
        continue;
      }
      size_t end = dotted_end(t, i);
      if (end == i) continue;
      if (end < t.size() && t[end].is_op("(")) {
        if (sites_ && !spilled_) add_site(dotted_text(t, i, end), t[i]);
        if (fn) fn->calls.insert(dotted_text(t, i, end));
      }
      i = end - 1;
    }
  }

  void parse_import(Tokens t) {
    for (Tokens part : split_top(t.subspan(1), ",")) {
      Import imp;
      size_t end = dotted_end(part, 0);
      imp.module = dotted_text(part, 0, end);
      if (end + 1 < part.size() && part[end].is_name("as"))
        imp.asname = std::string(part[end + 1].text);
      imp.line = t[0].line;
      imp.col = t[0].col;
      imp.in_function = scopes_.size() > 1;
      imp.type_checking = type_checking_depth_ >= 0;
      out_.imports.push_back(std::move(imp));
    }
  }

  void parse_from(Tokens t) {
    int level = 0;
    size_t i = 1;
    for (; i < t.size() && t[i].kind == Tok::kOp; ++i) {
      if (t[i].text == ".")
        ++level;
      else if (t[i].text == "...")
        level += 3;
      else
        break;
    }
    size_t end = dotted_end(t, i);
    std::string module = dotted_text(t, i, end);
    if (end >= t.size() || !t[end].is_name("import")) return;
    Tokens names = t.subspan(end + 1);
    if (!names.empty() && names[0].is_op("("))
      names = names.subspan(1, names.size() >= 2 ? names.size() - 2 : 0);
    for (Tokens part : split_top(names, ",")) {
      Import imp;
      imp.module = module;
      imp.level = level;
      imp.name = std::string(part[0].text);
      if (part.size() >= 3 && part[1].is_name("as")) imp.asname = std::string(part[2].text);
      imp.line = t[0].line;
      imp.col = t[0].col;
      imp.in_function = scopes_.size() > 1;
      imp.type_checking = type_checking_depth_ >= 0;
      out_.imports.push_back(std::move(imp));
    }
  }

  void parse_assignment(Tokens t, const Scope& scope) {
    if (scope.kind == Scope::kModule) parse_alias(t);
    bool named = false;  // cheap test first: most statements name neither target
    for (const auto& tok : t)
      named |=
          tok.kind == Tok::kName && (tok.text == "pytestmark" || tok.text == "pytest_plugins" ||
                                     tok.text == "__test__" || tok.text == "collect_ignore" ||
                                     tok.text == "collect_ignore_glob" || tok.text == "databases");
    if (!named) return;
    // Split at top-level '=' until a lambda, whose defaults also use '='.
    std::vector<Tokens> parts;
    int depth = 0;
    size_t start = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i].is_name("lambda") && depth == 0) break;
      if (t[i].kind != Tok::kOp) continue;
      auto x = t[i].text;
      if (x == "(" || x == "[" || x == "{")
        ++depth;
      else if (x == ")" || x == "]" || x == "}")
        --depth;
      else if (x == "=" && depth == 0) {
        parts.push_back(t.subspan(start, i - start));
        start = i + 1;
      }
    }
    if (parts.empty()) return;
    Tokens value = t.subspan(start);
    for (Tokens target : parts) {
      if (target.empty() || target[0].kind != Tok::kName) continue;
      bool annotated = target.size() > 1 && target[1].is_op(":");
      if (target.size() != 1 && !annotated) continue;
      if (target[0].text == "__test__" && scope.kind == Scope::kClass) {
        if (value.size() == 1 && (value[0].is_name("True") || value[0].is_name("False")))
          out_.classes[scope.index].dunder_test = value[0].is_name("True") ? 1 : 0;
        continue;
      }
      if (target[0].text != "pytestmark" && target[0].text != "pytest_plugins" &&
          target[0].text != "collect_ignore" && target[0].text != "collect_ignore_glob" &&
          target[0].text != "databases")
        continue;
      Assignment a;
      a.target = std::string(target[0].text);
      a.scope = scope.qualname;
      a.class_index = scope.kind == Scope::kClass ? scope.index : -1;
      a.line = t[0].line;
      a.values = reduce_values(value);
      if (a.target == "databases") a.strings = string_values(value);
      out_.assignments.push_back(std::move(a));
    }
  }

  // `Name = a.b.C`: exactly one target and a dotted name as the value.
  void parse_alias(Tokens t) {
    if (t.size() < 3 || t.size() % 2 == 0 || t[0].kind != Tok::kName || !t[1].is_op("=")) return;
    std::string dotted;
    for (size_t i = 2; i < t.size(); ++i) {
      bool want_name = i % 2 == 0;
      if (want_name ? t[i].kind != Tok::kName : !t[i].is_op(".")) return;
      dotted += t[i].text;
    }
    if (is_keyword(t[0].text) || is_keyword(t[2].text)) return;
    out_.aliases.push_back({std::string(t[0].text), std::move(dotted), t[0].line});
  }

  static std::vector<Reduced> reduce_values(Tokens v) {
    std::vector<Reduced> out;
    if (v.empty()) return out;
    Tokens items = v;
    bool sequence = false;
    if ((v[0].is_op("[") || v[0].is_op("(")) && matching_close(v, 0) == v.size() - 1) {
      Tokens inner = v.subspan(1, v.size() - 2);
      bool tuple = v[0].is_op("(") &&
                   (inner.empty() || split_top(inner, ",").size() > 1 || inner.back().is_op(","));
      if (v[0].is_op("[") || tuple) {
        items = inner;
        sequence = true;
      }
    }
    if (!sequence && split_top(v, ",").size() > 1) sequence = true;
    if (!sequence && !v.empty() && v.back().is_op(",")) sequence = true;
    if (!sequence) {
      out.push_back(reduce(v));
      return out;
    }
    bool comprehension = false;
    for (size_t i = 0; i < items.size(); ++i)
      comprehension |= items[i].is_name("for") && depth_at(items, i) == 0;
    if (comprehension) {
      out.push_back(reduce({}));
      return out;
    }
    for (Tokens item : split_top(items, ",")) out.push_back(reduce(item));
    return out;
  }

  Lexer lexer_;
  Outline& out_;
  bool sites_ = false;  // ScanOptions::call_sites
  bool hashes_ = true;  // ScanOptions::hashes
  std::vector<OpenWith> open_withs_;
  std::vector<Token> line_;
  bool header_ = false;   // hashing a def or class line
  bool spilled_ = false;  // the current line passed kSpillTokens
  Token spill_head_;      // its first token
  size_t hashed_ = 0;     // tokens of line_ already hashed
  std::string line_buf_;
  std::vector<Scope> scopes_;
  std::vector<Reduced> pending_decorators_;
  std::unique_ptr<HashState> pending_hash_;
  // Top-level simple bindings by name, and the one the current line feeds (else null).
  std::map<std::string, std::unique_ptr<HashState>, std::less<>> bindings_;
  HashState* binding_ = nullptr;
  int type_checking_depth_ = -1;  // the body depth of an open `if TYPE_CHECKING:`, or -1
  std::set<std::string, std::less<>> import_time_names_;
  int depth_ = 0;
  int last_end_line_ = 0;
  bool expect_indent_ = false;
  bool failed_ = false;
  bool finished_ = false;
};

}  // namespace

Outline scan_source(std::string_view bytes, std::string path, ScanOptions options) {
  Outline out;
  out.path = std::move(path);
  SourceText src = decode_source(bytes);
  OutlineParser parser(src.text, out, options);
  parser.run();
  if (!src.error.empty()) {
    out.error = src.error;
    out.error_line = src.error_line;
  }
  return out;
}

Outline scan_file(const std::string& path, const std::string& display_path) {
  std::string bytes;
  if (!read_file(path, &bytes)) {
    Outline out;
    out.path = display_path;
    out.error = "cannot read file";
    return out;
  }
  return scan_source(bytes, display_path);
}

bool read_file(const std::string& path, std::string* bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  bytes->clear();
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes->append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

}  // namespace testmap::scan
