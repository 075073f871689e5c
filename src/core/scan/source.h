// Turns the bytes of a .py file into the text the lexer reads: UTF-8 with the BOM
// removed, every line ending as "\n", decoded from a PEP 263 coding declaration.
#pragma once

#include <string>
#include <string_view>

namespace testmap::scan {

struct SourceText {
  std::string text;    // UTF-8, "\n" line endings
  int error_line = 0;  // first line with a decoding problem, 0 if none
  std::string error;   // what went wrong; the text is still usable (bytes kept as they were)
};

// Decodes `bytes` as Python would before tokenizing.
SourceText decode_source(std::string_view bytes);

}  // namespace testmap::scan
