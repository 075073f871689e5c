// Entry points of the scanner: source bytes in, outline out. Never throws, never
// recurses on input nesting; a file that does not parse keeps what came before the error.
#pragma once

#include <string>
#include <string_view>

#include "core/scan/outline.h"

namespace testmap::scan {

struct ScanOptions {
  bool call_sites = false;  // fill Outline::withs and ::call_sites (testmap lint)
  bool hashes = true;       // false: no code unit is hashed, the hashes mean nothing (lint)
};

// Outlines source bytes; `path` is only recorded, never read.
Outline scan_source(std::string_view bytes, std::string path, ScanOptions options = {});

// Reads and outlines a file; an unreadable file yields an outline with its error.
Outline scan_file(const std::string& path, const std::string& display_path);

// Reads a whole file; false if it cannot be read.
bool read_file(const std::string& path, std::string* bytes);

}  // namespace testmap::scan
