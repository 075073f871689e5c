// Python tokenizer: indentation, brackets, strings and PEP 701 f-strings, with
// CPython's limits (200 nested brackets, 100 indentation levels, 150 f-string levels)
// turned into errors rather than deep recursion.
#include "core/scan/lexer.h"

#include <fmt/format.h>

namespace testmap::scan {
namespace {

constexpr size_t kMaxBrackets = 200;
constexpr size_t kMaxIndents = 100;
constexpr size_t kMaxModes = 150;

bool is_name_start(char c) {
  auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_string_prefix(std::string_view p) {
  if (p.size() > 2) return false;
  bool r = false, b = false, u = false, f = false;
  for (char c : p) {
    switch (c | 0x20) {
      case 'r':
        if (r) return false;
        r = true;
        break;
      case 'b':
        if (b) return false;
        b = true;
        break;
      case 'u':
        if (u) return false;
        u = true;
        break;
      case 'f':
        if (f) return false;
        f = true;
        break;
      default:
        return false;
    }
  }
  if (u && p.size() > 1) return false;
  if (b && f) return false;
  return true;
}

// Length of the operator at the start of `s` (longest match), 0 if none.
size_t op_length(std::string_view s) {
  char a = s[0], b = s.size() > 1 ? s[1] : '\0', c = s.size() > 2 ? s[2] : '\0';
  switch (a) {
    case '(':
    case ')':
    case '[':
    case ']':
    case '{':
    case '}':
    case ',':
    case ';':
    case '~':
      return 1;
    case '.':
      return b == '.' && c == '.' ? 3 : 1;
    case '*':
    case '/':
    case '<':
    case '>':
      if (b == a) return c == '=' ? 3 : 2;
      if (b == '=' || (a == '<' && b == '>')) return 2;
      return 1;
    case '-':
      return b == '>' || b == '=' ? 2 : 1;
    case ':':
    case '=':
    case '!':
    case '+':
    case '%':
    case '&':
    case '|':
    case '^':
    case '@':
      return b == '=' ? 2 : 1;
    default:
      return 0;
  }
}

char closer_of(char open) {
  return open == '(' ? ')' : open == '[' ? ']' : '}';
}

}  // namespace

Lexer::Lexer(std::string_view text) : text_(text) {}

bool Lexer::in_brackets() const {
  return !brackets_.empty() || modes_.size() > 1;
}

Token Lexer::make(Tok kind, size_t start, int line, int col) {
  Token t;
  t.kind = kind;
  t.text = text_.substr(start, pos_ - start);
  t.line = line;
  t.end_line = line_;
  t.col = col;
  if (kind != Tok::kNewline && kind != Tok::kIndent && kind != Tok::kDedent)
    line_has_tokens_ = true;
  return t;
}

Token Lexer::fail(int line, std::string message) {
  if (error_.empty()) {
    error_ = std::move(message);
    error_line_ = line;
  }
  done_ = true;
  Token t;
  t.kind = Tok::kEnd;
  t.line = t.end_line = line;
  return t;
}

// At the start of a logical line: skip blank and comment lines, then compare the
// indentation with the stack. Returns true with an INDENT or DEDENT in *out.
bool Lexer::at_line_start_indent(Token* out) {
  for (;;) {
    int col = 0;
    size_t p = pos_;
    while (p < text_.size()) {
      char c = text_[p];
      if (c == ' ')
        ++col;
      else if (c == '\t')
        col = (col / 8 + 1) * 8;
      else if (c == '\f')
        col = 0;
      else
        break;
      ++p;
    }
    if (p >= text_.size()) {
      pos_ = p;
      return false;  // end of input: lex_code emits the closing tokens
    }
    if (text_[p] == '#' || text_[p] == '\n') {
      while (p < text_.size() && text_[p] != '\n') ++p;
      if (p < text_.size()) ++p;
      pos_ = p;
      ++line_;
      line_start_ = p;
      continue;
    }
    pos_ = p;
    at_bol_ = false;
    Token t;
    t.line = t.end_line = line_;
    t.col = col;
    if (col > indents_.back()) {
      if (indents_.size() >= kMaxIndents) {
        *out = fail(line_, "too many levels of indentation");
        return true;
      }
      indents_.push_back(col);
      t.kind = Tok::kIndent;
      *out = t;
      return true;
    }
    if (col < indents_.back()) {
      int n = 0;
      while (col < indents_.back()) {
        indents_.pop_back();
        ++n;
      }
      if (col != indents_.back()) {
        *out = fail(line_, "unindent does not match any outer indentation level");
        return true;
      }
      pending_dedents_ = n - 1;
      t.kind = Tok::kDedent;
      *out = t;
      return true;
    }
    return false;
  }
}

void Lexer::skip_spaces_and_comments() {
  for (;;) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\f') {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else if (c == '\\' && peek(1) == '\n') {
      pos_ += 2;
      ++line_;
      line_start_ = pos_;
    } else {
      return;
    }
  }
}

Token Lexer::next() {
  for (;;) {
    if (done_) return fail(line_, "");
    if (pending_dedents_ > 0) {
      --pending_dedents_;
      Token t;
      t.kind = Tok::kDedent;
      t.line = t.end_line = line_;
      return t;
    }
    Mode m = modes_.back().mode;
    if (m == Mode::kFString || m == Mode::kFormatSpec) return lex_fstring_literal();
    if (at_bol_ && !in_brackets()) {
      Token t;
      if (at_line_start_indent(&t)) return t;
    }
    skip_spaces_and_comments();
    if (pos_ >= text_.size()) {
      if (modes_.size() > 1) return fail(line_, "unterminated f-string");
      if (!brackets_.empty())
        return fail(bracket_lines_.back(), fmt::format("'{}' was never closed", brackets_.back()));
      Token t;
      t.line = t.end_line = line_;
      if (line_has_tokens_) {
        line_has_tokens_ = false;
        at_bol_ = true;
        t.kind = Tok::kNewline;
        return t;
      }
      if (indents_.size() > 1) {
        pending_dedents_ = static_cast<int>(indents_.size()) - 2;
        indents_.resize(1);
        t.kind = Tok::kDedent;
        return t;
      }
      done_ = true;
      t.kind = Tok::kEnd;
      return t;
    }
    char c = peek();
    if (c == '\n') {
      Token t;
      t.line = t.end_line = line_;
      t.col = static_cast<int>(pos_ - line_start_);
      ++pos_;
      ++line_;
      line_start_ = pos_;
      if (in_brackets()) continue;
      at_bol_ = true;
      if (line_has_tokens_) {
        line_has_tokens_ = false;
        t.kind = Tok::kNewline;
        return t;
      }
      continue;
    }
    return lex_code();
  }
}

Token Lexer::lex_code() {
  size_t start = pos_;
  int line = line_;
  int col = static_cast<int>(pos_ - line_start_);
  char c = peek();
  if (c == '\\') return fail(line_, "unexpected character after line continuation character");
  if (is_name_start(c)) {
    while (is_name_char(peek())) ++pos_;
    char q = peek();
    if ((q == '"' || q == '\'') && is_string_prefix(text_.substr(start, pos_ - start)))
      return lex_string(start, pos_, line, col);
    return make(Tok::kName, start, line, col);
  }
  if (is_digit(c) || (c == '.' && is_digit(peek(1)))) return lex_number(start, line, col);
  if (c == '"' || c == '\'') return lex_string(start, pos_, line, col);

  Frame& frame = modes_.back();
  if (frame.mode == Mode::kField && frame.depth == 0) {
    if (c == '}') {
      ++pos_;
      modes_.pop_back();
      return make(Tok::kOp, start, line, col);
    }
    if (c == ':') {
      ++pos_;
      Token t = make(Tok::kOp, start, line, col);
      modes_.push_back(Frame{Mode::kFormatSpec});
      return t;
    }
  }
  size_t n = op_length(text_.substr(pos_, 3));
  if (n == 0) {
    auto u = static_cast<unsigned char>(c);
    return fail(line_, u >= 0x20 && u < 0x7F ? fmt::format("invalid character '{}'", c)
                                             : fmt::format("invalid character 0x{:02x}", u));
  }
  if (n > 1) {
    pos_ += n;
    return make(Tok::kOp, start, line, col);
  }
  ++pos_;
  if (c == '(' || c == '[' || c == '{') {
    if (brackets_.size() >= kMaxBrackets) return fail(line_, "too many nested parentheses");
    brackets_.push_back(c);
    bracket_lines_.push_back(line_);
    if (frame.mode == Mode::kField) ++frame.depth;
  } else if (c == ')' || c == ']' || c == '}') {
    if (brackets_.empty() || (frame.mode == Mode::kField && frame.depth == 0))
      return fail(line_, fmt::format("unmatched '{}'", c));
    if (closer_of(brackets_.back()) != c)
      return fail(line_,
                  fmt::format("closing parenthesis '{}' does not match opening parenthesis '{}'", c,
                              brackets_.back()));
    brackets_.pop_back();
    bracket_lines_.pop_back();
    if (frame.mode == Mode::kField) --frame.depth;
  }
  return make(Tok::kOp, start, line, col);
}

Token Lexer::lex_number(size_t start, int line, int col) {
  char c = peek();
  char x = static_cast<char>(peek(1) | 0x20);
  if (c == '0' && (x == 'x' || x == 'o' || x == 'b')) {
    pos_ += 2;
    while (is_name_char(peek()) && !(static_cast<unsigned char>(peek()) >= 0x80)) ++pos_;
    return make(Tok::kNumber, start, line, col);
  }
  while (is_digit(peek()) || peek() == '_') ++pos_;
  if (peek() == '.') {
    ++pos_;
    while (is_digit(peek()) || peek() == '_') ++pos_;
  }
  if ((peek() | 0x20) == 'e' &&
      (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
    pos_ += 2;
    while (is_digit(peek()) || peek() == '_') ++pos_;
  }
  if ((peek() | 0x20) == 'j') ++pos_;
  return make(Tok::kNumber, start, line, col);
}

Token Lexer::lex_string(size_t start, size_t quote_pos, int line, int col) {
  std::string_view prefix = text_.substr(start, quote_pos - start);
  bool fstring = false, raw = false;
  for (char p : prefix) {
    fstring |= (p | 0x20) == 'f';
    raw |= (p | 0x20) == 'r';
  }
  char q = text_[quote_pos];
  bool triple =
      quote_pos + 2 < text_.size() && text_[quote_pos + 1] == q && text_[quote_pos + 2] == q;
  pos_ = quote_pos + (triple ? 3 : 1);
  if (fstring) {
    if (modes_.size() >= kMaxModes) return fail(line, "f-string nested too deeply");
    modes_.push_back(Frame{Mode::kFString, q, triple, raw, 0});
    return make(Tok::kFStringStart, start, line, col);
  }
  for (;;) {
    if (pos_ >= text_.size())
      return fail(line, triple ? "unterminated triple-quoted string literal"
                               : "unterminated string literal");
    char c = text_[pos_];
    if (c == '\\') {
      if (peek(1) == '\n') {
        ++line_;
        line_start_ = pos_ + 2;
      }
      pos_ += pos_ + 1 < text_.size() ? 2 : 1;
      continue;
    }
    if (c == '\n') {
      if (!triple) return fail(line, "unterminated string literal");
      ++pos_;
      ++line_;
      line_start_ = pos_;
      continue;
    }
    ++pos_;
    if (c == q) {
      if (!triple) break;
      if (peek() == q && peek(1) == q) {
        pos_ += 2;
        break;
      }
    }
  }
  return make(Tok::kString, start, line, col);
}

// Literal text of an f-string or of a format spec, up to the next field or the end.
Token Lexer::lex_fstring_literal() {
  Frame f = modes_.back();
  size_t start = pos_;
  int line = line_;
  int col = static_cast<int>(pos_ - line_start_);
  // The quote that ends the string: the innermost enclosing f-string's.
  const Frame* str = nullptr;
  for (size_t i = modes_.size(); i-- > 0;)
    if (modes_[i].mode == Mode::kFString) {
      str = &modes_[i];
      break;
    }
  for (;;) {
    if (pos_ >= text_.size()) return fail(line, "unterminated f-string");
    char c = text_[pos_];
    bool closes = f.mode == Mode::kFString && c == f.quote &&
                  (!f.triple || (peek(1) == f.quote && peek(2) == f.quote));
    if (closes) {
      if (pos_ > start) return make(Tok::kFStringMiddle, start, line, col);
      pos_ += f.triple ? 3 : 1;
      modes_.pop_back();
      return make(Tok::kFStringEnd, start, line, col);
    }
    if (c == '\n') {
      if (str && !str->triple && f.mode == Mode::kFString)
        return fail(line, "unterminated f-string literal");
      ++pos_;
      ++line_;
      line_start_ = pos_;
      continue;
    }
    if (c == '\\') {
      char n = peek(1);
      if (n == '{' || n == '}') {
        ++pos_;
      } else {
        if (n == '\n') {
          ++line_;
          line_start_ = pos_ + 2;
        }
        pos_ += pos_ + 1 < text_.size() ? 2 : 1;
      }
      continue;
    }
    if (c == '{') {
      if (f.mode == Mode::kFString && peek(1) == '{') {
        pos_ += 2;
        continue;
      }
      if (pos_ > start) return make(Tok::kFStringMiddle, start, line, col);
      if (modes_.size() >= kMaxModes) return fail(line, "f-string nested too deeply");
      ++pos_;
      modes_.push_back(Frame{Mode::kField});
      return make(Tok::kOp, start, line, col);
    }
    if (c == '}') {
      if (f.mode == Mode::kFString) {
        if (peek(1) == '}') {
          pos_ += 2;
          continue;
        }
        return fail(line_, "f-string: single '}' is not allowed");
      }
      if (pos_ > start) return make(Tok::kFStringMiddle, start, line, col);
      ++pos_;
      modes_.pop_back();  // the format spec
      modes_.pop_back();  // the field it belongs to
      return make(Tok::kOp, start, line, col);
    }
    ++pos_;
  }
}

}  // namespace testmap::scan
