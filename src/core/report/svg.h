// The report's charts, drawn as inline SVG: bars, a log-scale histogram and the plan's
// Gantt chart (the page's script draws only the tables' small trend lines). Labels are escaped
// here; colours come from the caller.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/plan/planner.h"
#include "core/report/model.h"

namespace testmap::report {

struct Bar {
  std::string label;
  double value = 0;
  std::string color;
  std::string text;  // shown after the bar: the value as it should read
};

// Horizontal bars, one row each, scaled to the largest value.
std::string bar_chart(const std::string& title, const std::vector<Bar>& bars);

// Test durations in bins of a quarter decade, 1 ms up, on a log scale.
std::string duration_histogram(const std::vector<double>& seconds);

// One row per machine (worker rows inside it when it has several), its start-up shaded,
// each unit a block in its tier's colour; the wall clock and the lower bound marked.
std::string gantt(const plan::Plan& plan, const std::vector<std::vector<Block>>& blocks,
                  const std::map<std::string, std::string>& tier_colors);

// "0.4 s", "12 s", "3.2 min", "1.5 h".
std::string human_seconds(double seconds);

}  // namespace testmap::report
