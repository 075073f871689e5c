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
// Stops the hook for a stretch that runs only code outside the root (pytest's own
// reporting, assertion rewriting) until tracer_resume(); recording carries on after. On
// 3.12+ such code is disabled for good already, and these do nothing.
void tracer_pause();
void tracer_resume();
// The code run since the last take() whose file is under `root` and not in an installed
// package, as (path relative to root, co_qualname); on 3.11 the classes methods ran on, as
// (path, class qualname), and ("<mro>", "") saying they were recorded; and the regular
// files under `root` opened for reading from Python, as (path, "<data>"). Forgets them.
std::vector<std::pair<std::string, std::string>> tracer_take(const std::string& root);
// The same, as a test's line of the recording holds them: `deps`, a JSON array of the
// pairs' numbers, without repeats; `defs`, the numbers this output (`sink`: the file the
// lines go to and the writer's token) has not had defined yet, as [id, file, name]. A
// reader keeps each writer's definitions of a file as it reads its lines.
struct TakenJson {
  std::string deps, defs;
};
TakenJson tracer_take_json(const std::string& root, const std::string& sink);

}  // namespace testmap::bindings
