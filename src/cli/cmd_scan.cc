// `testmap scan`: prints the outline of Python files (docs/outline.md). Used by the
// differential test against CPython's ast and handy when a classification surprises.
#include <fmt/format.h>

#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "core/scan/outline_json.h"
#include "core/scan/scanner.h"

namespace testmap::cli {

void register_scan(CLI::App& app, int& exit_code) {
  struct Options {
    std::vector<std::string> files;
    std::string files_from;
    bool json = false;
    bool call_sites = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "scan", "Print the outline of Python files: imports, classes, functions, calls");
  cmd->add_option("files", opts->files, "Python files to outline");
  cmd->add_option("--files-from", opts->files_from,
                  "Read the file names, one per line, from this file");
  cmd->add_flag("--json", opts->json, "Print a JSON array of outlines (one per file, in order)");
  cmd->add_flag("--call-sites", opts->call_sites,
                "With --json: each outline also lists its calls as [name, line, col, [the "
                "context managers of the with blocks around it]] (what testmap lint reads)");
  cmd->callback([opts, &exit_code] {
    std::vector<std::string> files = opts->files;
    if (!opts->files_from.empty()) {
      std::ifstream in(opts->files_from);
      if (!in) {
        fmt::print(stderr, "testmap scan: cannot read {}\n", opts->files_from);
        exit_code = kExitUsage;
        return;
      }
      for (std::string line; std::getline(in, line);)
        if (!line.empty()) files.push_back(line);
    }
    if (files.empty()) {
      fmt::print(stderr, "testmap scan: no files given (see --help)\n");
      exit_code = kExitUsage;
      return;
    }
    auto all = nlohmann::json::array();
    for (const auto& f : files) {
      std::string bytes;
      scan::Outline o;
      if (!scan::read_file(f, &bytes)) {
        o.path = f;
        o.error = "cannot read file";
      } else {
        o = scan::scan_source(bytes, f, {opts->call_sites});
      }
      if (!o.ok()) fmt::print(stderr, "{}:{}: {}\n", f, o.error_line, o.error);
      if (opts->json) {
        all.push_back(scan::outline_to_json(o));
        if (opts->call_sites) {
          auto sites = nlohmann::json::array();
          for (const auto& c : o.call_sites) {
            auto withs = nlohmann::json::array();
            for (int w : c.withs) withs.push_back(o.withs[w].name);
            sites.push_back({c.name, c.line, c.col, withs});
          }
          all.back()["call_sites"] = std::move(sites);
        }
      } else {
        fmt::print("{}: {} imports, {} classes, {} functions{}\n", f, o.imports.size(),
                   o.classes.size(), o.functions.size(), o.ok() ? "" : " (error)");
        for (const auto& c : o.classes)
          fmt::print("  class {} lines {}-{}\n", c.qualname, c.line, c.end_line);
        for (const auto& fn : o.functions)
          fmt::print("  def {} lines {}-{}\n", fn.qualname, fn.line, fn.end_line);
      }
    }
    if (opts->json)
      std::cout << all.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  });
}

}  // namespace testmap::cli
