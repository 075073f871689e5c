// The report as one self-contained HTML file, and its summary in Markdown.
#pragma once

#include <string>

#include "core/report/model.h"

namespace testmap::report {

// `generated`: when, as the page says it ("2026-12-05 14:03 UTC").
std::string html_page(const Model& m, const std::string& generated);

// The tier table, the plan's machines, the ten slowest tests and anything unknown: what
// GitHub shows as a job's summary ($GITHUB_STEP_SUMMARY).
std::string markdown_summary(const Model& m);

}  // namespace testmap::report
