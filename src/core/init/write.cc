// TOML written by hand, not by a serializer: comments beside each rule are the point,
// and the user's own file is appended to, never rewritten.
#include "core/init/write.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "core/util/diagnostic.h"

namespace testmap::init {
namespace {

constexpr size_t kWidth = 95;

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// `text` as comment lines of at most kWidth characters, the first after `first`, the rest
// after `rest`.
std::string comment(const std::string& raw, const std::string& first = "# ",
                    const std::string& rest = "#   ") {
  // A command line from /proc may hold newlines (python -c "..."): one comment, one line.
  std::string text = Diagnostic::one_line(raw);
  std::string out, line = first;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t space = text.find(' ', pos);
    std::string word = text.substr(pos, space == std::string::npos ? space : space - pos);
    pos = space == std::string::npos ? text.size() : space + 1;
    if (line.size() + word.size() > kWidth && line.size() > rest.size()) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
      line = rest;
    }
    line += word + " ";
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return out + line + "\n";
}

std::string tests(size_t n) {
  return n == 1 ? "1 test" : fmt::format("{} tests", n);
}

std::string rules_of(const ServiceDraft& s, const std::string& indent) {
  std::string out;
  for (const char* kind : {"markers", "fixtures", "base-classes", "paths", "calls"}) {
    std::string items;
    for (const auto& r : s.rules)
      if (r.kind == kind)
        items += r.tests ? fmt::format("{}  {},  # {}: {}\n", indent, quoted(r.name),
                                       tests(r.tests), r.why)
                         : fmt::format("{}  {},  # {}\n", indent, quoted(r.name), r.why);
    if (!items.empty()) out += fmt::format("{}{} = [\n{}{}]\n", indent, kind, items, indent);
  }
  return out;
}

}  // namespace

std::string render(const Draft& d) {
  std::string out =
      "\n# ---- [tool.testmap], first written by `testmap init` (docs/init.md) ----\n";
  std::string from = fmt::format("From what the repository says about its {}", tests(d.tests));
  if (d.recorded) from += fmt::format(", and a recorded run of {}", tests(d.recorded));
  out += comment(from +
                 ". Each rule says where it came from: delete what is wrong, then check with "
                 "`testmap classify` (--explain TEST says why a test needs a service).");
  if (!d.presets.empty() || d.django_databases.size()) {
    std::string body;
    for (const auto& n : d.preset_notes) body += comment(n);
    if (!d.presets.empty()) {
      std::vector<std::string> names;
      for (const auto& p : d.presets) names.push_back(quoted(p));
      body += fmt::format("presets = [{}]\n", fmt::join(names, ", "));
    }
    if (d.has_testmap_table) {
      out += "\n# Add to your [tool.testmap]:\n";
      size_t pos = 0;
      while (pos < body.size()) {
        size_t nl = body.find('\n', pos);
        std::string line = body.substr(pos, nl - pos);
        out += line.starts_with("#") ? line + "\n" : "#   " + line + "\n";
        pos = nl + 1;
      }
    } else {
      out += "[tool.testmap]\n" + body;
    }
  } else {
    for (const auto& n : d.preset_notes) out += comment(n);
  }
  for (const auto& s : d.services) {
    out += "\n";
    std::string seen = fmt::format("without this table the source gives it to {}", tests(s.tests));
    if (d.recorded) seen += fmt::format("; a recorded run saw {} use it", tests(s.recorded_tests));
    if (s.configured) {
      out += fmt::format(
          "# [tool.testmap.services.{}] is configured above; the source gives it to "
          "{}{}.\n",
          s.name, tests(s.tests),
          d.recorded ? fmt::format(", a recorded run saw {} use it", tests(s.recorded_tests)) : "");
      for (const auto& n : s.notes) out += comment(n);
      std::string more = rules_of(s, "");
      if (!s.ports.empty()) more = fmt::format("ports = [{}]\n", fmt::join(s.ports, ", ")) + more;
      if (!more.empty()) {
        out += "# testmap init would add:\n";
        size_t pos = 0;
        while (pos < more.size()) {
          size_t nl = more.find('\n', pos);
          out += "#   " + more.substr(pos, nl - pos) + "\n";
          pos = nl + 1;
        }
      }
      continue;
    }
    out += fmt::format("[tool.testmap.services.{}]\n", s.name);
    out += comment(seen);
    for (const auto& n : s.notes) out += comment(n);
    if (!s.ports.empty()) out += fmt::format("ports = [{}]\n", fmt::join(s.ports, ", "));
    if (!s.processes.empty()) {
      std::vector<std::string> names;
      for (const auto& p : s.processes) names.push_back(quoted(p));
      out += fmt::format("processes = [{}]\n", fmt::join(names, ", "));
    }
    out += rules_of(s, "");
  }
  if (!d.questions.empty()) {
    out += "\n# What testmap init could not decide:\n";
    for (const auto& q : d.questions) out += comment(q, "# - ", "#   ");
  }
  return out;
}

nlohmann::json to_json(const Draft& d) {
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : d.services) {
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& r : s.rules)
      rules.push_back({{"kind", r.kind}, {"name", r.name}, {"tests", r.tests}, {"why", r.why}});
    services.push_back({{"name", s.name},
                        {"configured", s.configured},
                        {"ports", s.ports},
                        {"rules", rules},
                        {"notes", s.notes},
                        {"tests", s.tests},
                        {"recorded_tests", s.recorded_tests}});
  }
  return {{"tests", d.tests},
          {"recorded", d.recorded},
          {"presets", d.presets},
          {"services", services},
          {"questions", d.questions}};
}

bool append_section(const std::string& existing, const std::string& section, std::string* out,
                    std::string* error) {
  *out = existing;
  if (!out->empty() && out->back() != '\n') *out += '\n';
  *out += out->empty() ? section.substr(1) : section;
  try {
    (void)toml::parse(*out);
  } catch (const toml::parse_error& e) {
    *error = fmt::format("line {}: {}", e.source().begin.line, e.description());
    return false;
  }
  return true;
}

}  // namespace testmap::init
