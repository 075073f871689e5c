// A pull lexer for Python 3.8 to 3.13 source. It never recurses, so no input can
// overflow the stack; nesting beyond CPython's own limits is reported as an error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/scan/token.h"

namespace testmap::scan {

class Lexer {
 public:
  // `text` must outlive the lexer and be decoded already (see source.h).
  explicit Lexer(std::string_view text);

  // The next token; after an error or at the end of input, Tok::kEnd forever.
  Token next();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  int error_line() const { return error_line_; }

 private:
  enum class Mode : uint8_t { kCode, kField, kFString, kFormatSpec };
  struct Frame {
    Mode mode;
    char quote = 0;  // kFString: the quote character
    bool triple = false;
    bool raw = false;
    int depth = 0;  // kField: brackets opened inside the field
  };

  Token make(Tok kind, size_t start, int line, int col);
  Token fail(int line, std::string message);
  bool at_line_start_indent(Token* out);
  Token lex_code();
  Token lex_fstring_literal();
  Token lex_string(size_t start, size_t quote_pos, int line, int col);
  Token lex_number(size_t start, int line, int col);
  void skip_spaces_and_comments();
  char peek(size_t k = 0) const { return pos_ + k < text_.size() ? text_[pos_ + k] : '\0'; }
  bool in_brackets() const;

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  bool at_bol_ = true;  // at the beginning of a logical line
  bool line_has_tokens_ = false;
  int pending_dedents_ = 0;
  bool done_ = false;
  std::vector<int> indents_{0};
  std::vector<char> brackets_;  // open brackets in code (all modes)
  std::vector<int> bracket_lines_;
  std::vector<Frame> modes_{Frame{Mode::kCode}};
  std::string error_;
  int error_line_ = 0;
};

}  // namespace testmap::scan
