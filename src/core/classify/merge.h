// Static and runtime together: a recorded test's services are the union of what its source
// says and what a recorded run saw, each reason marked with its source. A test static
// analysis could not classify but a run recorded takes the services the run saw.
#pragma once

#include "core/classify/result.h"
#include "core/config/config.h"

namespace testmap::classify {

void merge_runtime(const config::Config& cfg, const RuntimeUses& runtime, Classification& c);

}  // namespace testmap::classify
