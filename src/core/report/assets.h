// The report page's own style sheet and script, inlined into every report: nothing is
// fetched over the network.
#pragma once

namespace testmap::report {

extern const char* const kStyle;
extern const char* const kScript;

}  // namespace testmap::report
