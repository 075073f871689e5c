// tox's native TOML configuration (tox.toml, pyproject.toml [tool.tox]) read into the same
// environments as tox.ini (docs/envs.md).
#pragma once

#include <string>

#include <toml++/toml.h>

#include "core/envs/tox.h"

namespace testmap::envs {

// Reads tox's tables: `tox` is `doc` itself (tox.toml) or its [tool.tox] (pyproject.toml);
// `ref` replacements name paths from `doc`'s root. False with *error (file, line, key) when
// there is no env_list or a part of it cannot be read.
bool read_tox_toml(const toml::table& doc, const toml::table& tox, const std::string& file,
                   ToxConfig* out, Diagnostic* error);

}  // namespace testmap::envs
