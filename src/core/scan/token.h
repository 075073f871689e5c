// The tokens the Python lexer produces: the same kinds CPython 3.12's tokenizer
// emits, f-strings included (PEP 701), minus comments and non-logical newlines.
#pragma once

#include <cstdint>
#include <string_view>

namespace testmap::scan {

enum class Tok : uint8_t {
  kName,
  kNumber,
  kString,         // a complete string literal, prefix and quotes included
  kFStringStart,   // f" ... : prefix and opening quote
  kFStringMiddle,  // literal text between replacement fields
  kFStringEnd,     // the closing quote
  kOp,             // operators and brackets, longest match
  kNewline,        // end of a logical line
  kIndent,
  kDedent,
  kEnd,  // end of input (or the point where an error stopped the lexer)
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;
  int line = 0;      // 1-based line of the first character
  int end_line = 0;  // line of the last character (differs for multi-line strings)
  int col = 0;       // byte offset in the line

  bool is_op(std::string_view op) const { return kind == Tok::kOp && text == op; }
  bool is_name(std::string_view name) const { return kind == Tok::kName && text == name; }
};

}  // namespace testmap::scan
