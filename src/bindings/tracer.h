// The dependency tracer of pytest --testmap-deps: which Python functions a test runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace testmap::bindings {

// Starts recording every thread of the interpreter (a frame or PY_START hook per Python
// function, no line events); what was recorded before is kept until take(). `root`, the
// root take() will be given, lets 3.12+ disable code outside it for good.
void tracer_start(const std::string& root = "");
void tracer_stop();
// The code run since the last take() whose file is under `root` and not in an installed
// package, as (path relative to root, co_qualname); on 3.11 the classes methods ran on, as
// (path, class qualname), and ("<mro>", "") saying they were recorded; and the regular
// files under `root` opened for reading from Python, as (path, "<data>"). Forgets them.
std::vector<std::pair<std::string, std::string>> tracer_take(const std::string& root);

}  // namespace testmap::bindings
