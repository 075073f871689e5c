// Code units: what a recorded test depends on, and what a change is compared by. A unit
// is a function (its whole body), a class body (its own lines, not its methods'), or a
// whole file ("*") when the code a test ran cannot be named in the source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/scan/outline.h"

namespace testmap::select {

inline constexpr const char* kWholeFile = "*";
// The unit name of a data file a test opened (JSON fixtures, templates, SQL): its content.
inline constexpr const char* kDataFile = "<data>";
// The tracer's mark (as a file) that it recorded the classes of the objects methods ran on,
// kept among a run's module states: without it, a base class's users are assumed to have
// met every subclass.
inline constexpr const char* kReceiversRecorded = "<mro>";

// The units of one file and their hashes, from its outline.
struct FileUnits {
  std::unordered_map<std::string, uint64_t> hash;  // unit name -> hash
  std::unordered_set<std::string> classes;         // the names that are class bodies
};

FileUnits units_of(const scan::Outline& o);

// The units a code object of `qualname` (Python's co_qualname) stands for: the function
// or class body itself and the class bodies around it ("A.m" is A.m and A). Module-level
// code gives none (a change there is found through imports); a name the source does not
// have (code made by exec, a file changed since) gives the whole file.
std::vector<std::string> units_of_code(const FileUnits& u, std::string_view qualname);

// The key of a class body among a run's module states: "file::qualname".
inline std::string class_key(const std::string& file, const std::string& qualname) {
  return file + "::" + qualname;
}

// The key of a top-level binding (`NAME = ...`) among a run's module states: "file:=NAME".
inline std::string binding_key(const std::string& file, const std::string& name) {
  return file + ":=" + name;
}

// The key of a whole file's digest among a run's module states: "file:*". A test whose own
// file changed runs, whatever the change.
inline std::string whole_key(const std::string& file) {
  return file + ":*";
}

// The key of a unit that ran outside every test (at import) among a run's module states:
// "<import>file::unit". A change to it reaches every importer of the file.
inline constexpr const char* kImportPrefix = "<import>";
inline std::string import_key(const std::string& file, const std::string& unit) {
  return kImportPrefix + file + "::" + unit;
}

// A layout-blind digest of everything in the outline: the whole-file unit's hash.
uint64_t outline_digest(const scan::Outline& o);

}  // namespace testmap::select
