// Chart geometry. Everything is computed here and written as plain SVG elements, so the page
// needs no script to show a chart and no library at all.
#include "core/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/report/escape.h"

namespace testmap::report {

namespace {

constexpr double kWidth = 900;

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

}  // namespace

std::string human_seconds(double s) {
  if (s < 1) return fmt::format("{:.2f} s", s);
  if (s < 60) return fmt::format("{:.1f} s", s);
  if (s < 3600) return fmt::format("{:.1f} min", s / 60);
  return fmt::format("{:.1f} h", s / 3600);
}

// Room for the longest label at about 7 px a character, within reason.
double label_width(size_t longest) {
  return std::clamp(static_cast<double>(longest) * 7.0 + 16, 90.0, 330.0);
}

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars) {
  size_t longest = 0;
  for (const auto& b : bars) longest = std::max(longest, b.label.size());
  const double label_w = label_width(longest), row = 22, text_w = 110;
  double top = 0;
  for (const auto& b : bars) top = std::max(top, b.value);
  double height = row * static_cast<double>(bars.size()) + 8;
  std::string out = fmt::format(
      "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {} {}\" width=\"100%\" "
      "aria-label=\"{}\">",
      num(kWidth), num(height), html(title));
  double span = kWidth - label_w - text_w;
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    double y = 4 + row * static_cast<double>(i);
    double w = top > 0 ? std::max(1.0, span * b.value / top) : 1.0;
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title>"
        "</rect><text x=\"{}\" y=\"{}\" class=\"value\">{}</text>",
        num(label_w - 8), num(y + 15), html(b.label), num(label_w), num(y + 2), num(w),
        num(row - 6), b.color, html(b.label), html(b.text), num(label_w + w + 6), num(y + 15),
        html(b.text));
  }
  return out + "</svg>";
}

std::string duration_histogram(const std::vector<double>& seconds) {
  // Bins of a quarter decade from 1 ms: bin k holds [10^(k/4 - 3), 10^((k+1)/4 - 3)).
  std::vector<size_t> bins;
  for (double s : seconds) {
    int k = s <= 0.001 ? 0 : static_cast<int>(std::floor((std::log10(s) + 3) * 4));
    k = std::max(0, k);
    if (static_cast<size_t>(k) >= bins.size()) bins.resize(k + 1, 0);
    ++bins[k];
  }
  if (bins.empty()) return "<p class=\"note\">No durations recorded yet.</p>";
  bins.resize(std::max<size_t>(bins.size(), 13), 0);  // at least up to 1 s
  size_t top = *std::max_element(bins.begin(), bins.end());
  const double left = 50, bottom = 30, h = 180, height = h + bottom + 10;
  double bw = (kWidth - left - 10) / static_cast<double>(bins.size());
  std::string out = fmt::format(
      "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {} {}\" width=\"100%\" "
      "aria-label=\"Histogram of test durations, log scale\">",
      num(kWidth), num(height));
  for (size_t k = 0; k < bins.size(); ++k) {
    double bh = top ? h * static_cast<double>(bins[k]) / static_cast<double>(top) : 0;
    double x = left + bw * static_cast<double>(k);
    double lo = std::pow(10.0, static_cast<double>(k) / 4 - 3);
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"bin\"><title>{} tests from "
        "{} to {}</title></rect>",
        num(x + 1), num(10 + h - bh), num(std::max(1.0, bw - 2)), num(bh), bins[k],
        human_seconds(lo), human_seconds(lo * std::pow(10.0, 0.25)));
    if (k % 4 == 0)
      out +=
          fmt::format("<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>", num(x), num(10 + h + 18),
                      lo < 1 ? fmt::format("{} ms", lo * 1000) : human_seconds(lo));
  }
  out += fmt::format(
      "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{}</text>"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axisline\"/>",
      num(left - 6), num(18), top, num(left), num(10 + h), num(kWidth - 10), num(10 + h));
  return out + "</svg>";
}

std::string gantt(const plan::Plan& plan, const std::vector<std::vector<Block>>& blocks,
                  const std::map<std::string, std::string>& tier_colors) {
  if (plan.machines.empty()) return "<p class=\"note\">No plan: no tests.</p>";
  size_t longest = 0;
  for (const auto& m : plan.machines) longest = std::max(longest, m.id.size());
  const double label_w = label_width(longest), right = 20, worker_h = 14, gap = 10, top = 24;
  int workers = std::max(1, plan.workers);
  double row_h = worker_h * workers;
  double end = std::max(plan.wall_seconds, 1e-9);
  for (const auto& m : plan.machines) end = std::max(end, m.seconds);
  double scale = (kWidth - label_w - right) / end;
  double height = top + (row_h + gap) * static_cast<double>(plan.machines.size()) + 24;
  // Room above the rows for the lower bound's label.
  std::string out = fmt::format(
      "<svg class=\"chart gantt\" role=\"img\" viewBox=\"0 0 {} {}\" width=\"100%\" "
      "aria-label=\"The plan's machines over time\">",
      num(kWidth), num(height));
  for (size_t i = 0; i < plan.machines.size(); ++i) {
    const auto& m = plan.machines[i];
    double y = top + (row_h + gap) * static_cast<double>(i);
    out += fmt::format("<g class=\"machine\" data-machine=\"{}\">", html(m.id));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"label\">{}</text>",
                       num(label_w - 8), num(y + row_h / 2 + 4), html(m.id));
    if (m.startup_seconds > 0)
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"startup\"><title>{}: "
          "starting {} ({})</title></rect>",
          num(label_w), num(y), num(m.startup_seconds * scale), num(row_h), html(m.id),
          html(m.services.empty() ? std::string("nothing")
                                  : fmt::format("{}", fmt::join(m.services, ", "))),
          human_seconds(m.startup_seconds));
    for (const auto& b : blocks[i]) {
      auto c = tier_colors.find(b.tier);
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" class=\"block\">"
          "<title>{} ({} tests, {}, tier {})</title></rect>",
          num(label_w + (m.startup_seconds + b.start) * scale),
          num(y + worker_h * static_cast<double>(b.worker) + 1),
          num(std::max(0.5, b.seconds * scale - 0.5)), num(worker_h - 2),
          c != tier_colors.end() ? c->second : "#999", html(b.unit), b.tests,
          human_seconds(b.seconds), html(b.tier));
    }
    out += "</g>";
  }
  // The lower bound's label above the rows, the wall clock's below: they may coincide.
  auto mark = [&](double seconds, const char* cls, const std::string& label, double label_y) {
    double x = label_w + seconds * scale;
    const char* anchor = x > kWidth - 120 ? "end" : "middle";
    out += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"/><text x=\"{}\" y=\"{}\" "
        "class=\"{} marklabel\" text-anchor=\"{}\">{}</text>",
        num(x), num(top - 6), num(x), num(height - 20), cls, num(x), num(label_y), cls, anchor,
        html(label));
  };
  mark(plan.lower_bound_seconds, "bound", "lower bound " + human_seconds(plan.lower_bound_seconds),
       top - 10);
  mark(plan.wall_seconds, "wall", "wall clock " + human_seconds(plan.wall_seconds), height - 6);
  return out + "</svg>";
}

}  // namespace testmap::report
