// Text and JSON renderings of a classification: the tier table CI teams write by
// hand, the machine-readable form, and the --explain story of one test.
#pragma once

#include <string>

#include "core/classify/result.h"

namespace testmap::classify {

std::string render_table(const Classification& c, double seconds);
// Every test with its tier, services and reasons, then tiers, service counts and
// diagnostics; one JSON document ending in a newline (docs/config.md shows the shape).
std::string to_json_text(const Classification& c);

// Where recorded runs and the source disagree (`classify --diff`): services used at run
// time that no static rule declares (misclassified), services declared but never used
// (over-classified), and tests the source could not classify but a run did.
std::string render_diff(const Classification& c);
std::string diff_json_text(const Classification& c);
// Every reason behind one test, with file and line; empty if no test has that id.
// `id` may carry parametrize ids ("test_x[1-2]"), which are ignored.
std::string explain(const Classification& c, const std::string& id);

}  // namespace testmap::classify
