// The dependency tracer of pytest --testmap-deps: which Python functions a test runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace testmap::bindings {

// Starts recording on this thread (a call event per Python function call, no line
// events); what was recorded before is kept until take().
void tracer_start();
void tracer_stop();
// The code run since the last take() whose file is under `root` and not in an installed
// package, as (path relative to root, co_qualname), and the regular files under `root`
// opened for reading from Python, as (path relative to root, "<data>"); forgets them.
std::vector<std::pair<std::string, std::string>> tracer_take(const std::string& root);

}  // namespace testmap::bindings
