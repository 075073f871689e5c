// A problem found in the user's input, with where it is. Errors cross module
// boundaries as these values; front ends decide how to print them.
#pragma once

#include <string>
#include <vector>

namespace testmap {

struct Diagnostic {
  std::string file;  // relative to the root where possible
  int line = 0;      // 0 when unknown
  std::string key;   // config key, test id or symbol, when one applies
  std::string message;

  // One line, always: a control character from the input (a key with a newline in a
  // TOML file, a test id with a tab) is escaped, so that each problem stays one line.
  std::string format() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line);
    s += ": ";
    if (!key.empty()) s += key + ": ";
    return one_line(s + message);
  }

  static std::string one_line(const std::string& text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
      if (c >= 0x20 && c != 0x7f) {
        out += static_cast<char>(c);
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
    return out;
  }
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace testmap
