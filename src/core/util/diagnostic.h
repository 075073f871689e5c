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

  std::string format() const {
    std::string s = file;
    if (line > 0) s += ":" + std::to_string(line);
    s += ": ";
    if (!key.empty()) s += key + ": ";
    return s + message;
  }
};

using Diagnostics = std::vector<Diagnostic>;

}  // namespace testmap
