// The JSON form of an outline (docs/outline.md), shared by `testmap scan --json`
// and the extension module.
#pragma once

#include <nlohmann/json.hpp>

#include "core/scan/outline.h"

namespace testmap::scan {

nlohmann::json outline_to_json(const Outline& outline);

}  // namespace testmap::scan
