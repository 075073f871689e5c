// Expression reduction over token spans: dotted names, plain strings, calls with
// their arguments; everything else becomes "…".
#include "core/scan/reduce.h"

#include <algorithm>

namespace testmap::scan {
namespace {

constexpr int kMaxDepth = 64;

std::string render_call(const Reduced& r) {
  std::string s = r.callee + "(";
  bool first = true;
  for (const auto& a : r.args) {
    if (!first) s += ',';
    s += a;
    first = false;
  }
  for (const auto& [k, v] : r.kwargs) {
    if (!first) s += ',';
    s += k.empty() ? v : k + "=" + v;
    first = false;
  }
  return s + ")";
}

// The values of `("a", "b")`, `["a", "b"]` or `{"a", "b"}`; empty unless every item is a
// plain string.
std::vector<std::string> string_items(Tokens t) {
  std::vector<std::string> out;
  if (t.size() < 2 || !(t[0].is_op("(") || t[0].is_op("[") || t[0].is_op("{")) ||
      matching_close(t, 0) != t.size() - 1)
    return out;
  for (Tokens item : split_top(t.subspan(1, t.size() - 2), ",")) {
    if (item.empty()) continue;  // a trailing comma
    std::string joined, part;
    for (const auto& tok : item) {
      if (!plain_string_value(tok, &part)) return {};
      joined += part;
    }
    out.push_back(std::move(joined));
  }
  return out;
}

Reduced unknown() {
  Reduced r;
  r.text = kEllipsis;
  return r;
}

}  // namespace

std::vector<std::string> string_values(Tokens t) {
  if (t.empty()) return {};
  std::string joined, part;
  for (const auto& tok : t) {
    if (!plain_string_value(tok, &part)) return string_items(t);  // not one string
    joined += part;
  }
  return {joined};
}

bool is_keyword(std::string_view n) {
  // Hot: called for every name in every function body. Dispatch on length first.
  switch (n.size()) {
    case 2:
      return n == "as" || n == "if" || n == "in" || n == "is" || n == "or";
    case 3:
      return n == "and" || n == "def" || n == "del" || n == "for" || n == "not" || n == "try";
    case 4:
      return n == "None" || n == "True" || n == "elif" || n == "else" || n == "from" ||
             n == "pass" || n == "with";
    case 5:
      return n == "False" || n == "async" || n == "await" || n == "break" || n == "class" ||
             n == "raise" || n == "while" || n == "yield";
    case 6:
      return n == "assert" || n == "except" || n == "global" || n == "import" || n == "lambda" ||
             n == "return";
    case 7:
      return n == "finally";
    case 8:
      return n == "continue" || n == "nonlocal";
    default:
      return false;
  }
}

size_t matching_close(Tokens t, size_t open) {
  int depth = 0;
  for (size_t i = open; i < t.size(); ++i) {
    if (t[i].kind != Tok::kOp || t[i].text.size() != 1) continue;
    char c = t[i].text[0];
    if (c == '(' || c == '[' || c == '{')
      ++depth;
    else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0) return i;
    }
  }
  return t.size();
}

size_t matching_open(Tokens t, size_t close) {
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (t[i].kind != Tok::kOp || t[i].text.size() != 1) continue;
    char c = t[i].text[0];
    if (c == ')' || c == ']' || c == '}')
      ++depth;
    else if (c == '(' || c == '[' || c == '{') {
      if (--depth == 0) return i;
    }
  }
  return t.size();
}

std::vector<Tokens> split_top(Tokens t, std::string_view sep) {
  std::vector<Tokens> parts;
  int depth = 0;
  int lambdas = 0;  // open `lambda a, b:` parameter lists: their commas separate nothing
  size_t start = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (depth == 0 && t[i].is_name("lambda")) ++lambdas;
    if (t[i].kind != Tok::kOp) continue;
    std::string_view x = t[i].text;
    if (x == "(" || x == "[" || x == "{")
      ++depth;
    else if (x == ")" || x == "]" || x == "}")
      --depth;
    else if (depth == 0 && lambdas > 0 && x == ":")
      --lambdas;
    else if (depth == 0 && lambdas == 0 && x == sep) {
      if (i > start) parts.push_back(t.subspan(start, i - start));
      start = i + 1;
    }
  }
  if (t.size() > start) parts.push_back(t.subspan(start));
  return parts;
}

size_t dotted_end(Tokens t, size_t i) {
  if (i >= t.size() || t[i].kind != Tok::kName || is_keyword(t[i].text)) return i;
  size_t j = i + 1;
  while (j + 1 < t.size() && t[j].is_op(".") && t[j + 1].kind == Tok::kName &&
         !is_keyword(t[j + 1].text))
    j += 2;
  return j;
}

std::string dotted_text(Tokens t, size_t begin, size_t end) {
  std::string s;
  for (size_t i = begin; i < end; ++i) s += t[i].text;
  return s;
}

bool plain_string_value(const Token& tok, std::string* value) {
  if (tok.kind != Tok::kString) return false;
  std::string_view s = tok.text;
  size_t q = s.find_first_of("'\"");
  if (q == std::string_view::npos) return false;
  for (size_t i = 0; i < q; ++i)
    if ((s[i] | 0x20) != 'u') return false;
  std::string_view body = s.substr(q);
  size_t quotes = body.size() >= 6 && body[1] == body[0] && body[2] == body[0] ? 3 : 1;
  body = body.substr(quotes, body.size() - 2 * quotes);
  if (body.find('\\') != std::string_view::npos) return false;
  *value = std::string(body);
  return true;
}

Reduced reduce(Tokens t, bool as_base, int depth) {
  if (t.empty() || depth > kMaxDepth) return unknown();
  if (t[0].kind == Tok::kString) {
    std::string joined, part;
    for (const auto& tok : t) {
      if (!plain_string_value(tok, &part)) return unknown();
      joined += part;
    }
    Reduced r;
    r.text = "'" + joined + "'";
    return r;
  }
  if (t.size() == 1 && t[0].kind == Tok::kName &&
      (t[0].text == "True" || t[0].text == "False" || t[0].text == "None")) {
    Reduced r;
    r.text = std::string(t[0].text);
    return r;
  }
  if (as_base && t.back().is_op("]")) {
    // `Generic[T]`, `f()[T]`: a subscripted base reduces to its value.
    size_t open = matching_open(t, t.size() - 1);
    if (open > 0 && open < t.size()) return reduce(t.subspan(0, open), false, depth + 1);
    return unknown();
  }
  if (t[0].is_op("(")) {
    // `(a).b` is `a.b`: parentheses around a dotted name do not change it.
    size_t close = matching_close(t, 0);
    if (close + 1 < t.size() && close > 1 && dotted_end(t, 1) == close) {
      std::vector<Token> flat(t.begin() + 1, t.begin() + static_cast<long>(close));
      flat.insert(flat.end(), t.begin() + static_cast<long>(close) + 1, t.end());
      return reduce(flat, false, depth + 1);
    }
  }
  if (t[0].is_op("(") && matching_close(t, 0) == t.size() - 1) {
    Tokens inner = t.subspan(1, t.size() - 2);
    if (!inner.empty() && split_top(inner, ",").size() == 1 && !inner.back().is_op(",") &&
        !inner[0].is_name("yield"))
      return reduce(inner, false, depth + 1);
    return unknown();
  }
  size_t end = dotted_end(t, 0);
  if (end == 0) return unknown();
  Reduced r;
  r.callee = dotted_text(t, 0, end);
  if (end == t.size()) {
    r.text = r.callee;
    return r;
  }
  if (as_base && t[end].is_op("[") && matching_close(t, end) == t.size() - 1) {
    r.text = r.callee;
    return r;
  }
  if (!t[end].is_op("(") || matching_close(t, end) != t.size() - 1) return unknown();
  r.is_call = true;
  for (Tokens arg : split_top(t.subspan(end + 1, t.size() - end - 2), ",")) {
    if (arg[0].is_op("**")) {
      r.kwargs.emplace_back("", kEllipsis);
    } else if (arg[0].is_op("*")) {
      r.args.push_back(kEllipsis);
      r.arg_strings.emplace_back();
    } else if (arg.size() >= 2 && arg[0].kind == Tok::kName && arg[1].is_op("=")) {
      r.kwargs.emplace_back(std::string(arg[0].text),
                            reduce(arg.subspan(2), false, depth + 1).text);
      // Only django_db(databases=[...]) is read for its strings: none kept for the rest.
      if (arg[0].text == "databases") {
        r.kwarg_strings.resize(r.kwargs.size());
        r.kwarg_strings.back() = string_values(arg.subspan(2));
      }
    } else {
      r.args.push_back(reduce(arg, false, depth + 1).text);
      r.arg_strings.push_back(string_items(arg));
    }
  }
  r.text = render_call(r);
  return r;
}

}  // namespace testmap::scan
