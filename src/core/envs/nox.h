// A library's nox sessions as environments (docs/envs.md): the sessions nox itself lists
// (`nox --list --json`: names, Pythons, parameters), and what each runs, read from its
// function in noxfile.py.
#pragma once

#include <string>
#include <string_view>

#include "core/envs/tox.h"

namespace testmap::envs {

// The sessions of `listing` (nox's JSON) that nox runs by default, each with the commands
// its function in `noxfile` runs: `session.run(...)` with literal arguments, f-strings of
// its parameters, `*session.posargs` as nothing (CI passes none); `session.install(...)` as
// its deps; `session.chdir(...)` as its directory. A session whose function passes
// `session` elsewhere, or that cannot be found, gets a command testmap cannot read, so it
// gets every test and service. False with *error when the listing is not nox's.
bool read_nox_listing(std::string_view listing, std::string_view noxfile, ToxConfig* out,
                      Diagnostic* error);

// Runs `nox --list --json` at `root` and reads its noxfile.py. False with *error (one line)
// when there is no noxfile.py, nox is not installed, or it fails.
bool read_nox(const std::string& root, ToxConfig* out, Diagnostic* error);

}  // namespace testmap::envs
