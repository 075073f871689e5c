# Finds the libraries testmap links and gives each one target, testmap::<name>, the same
# for both ways of getting it:
# - the developer build (Debian's -dev packages, found with find_package), and
# - the portable build (TESTMAP_BUNDLED_DEPS=ON, or a library that is not installed):
#   compiled from the pinned sources in cmake/third_party_sources.cmake into static
#   archives with hidden symbols, so the wheel needs nothing but glibc and libstdc++.
include(FetchContent)
include("${CMAKE_CURRENT_LIST_DIR}/third_party_sources.cmake")

option(TESTMAP_BUNDLED_DEPS
  "Build every C/C++ library from its pinned source and link it statically (portable wheel)"
  OFF)
find_package(Threads REQUIRED)
set(TESTMAP_BUNDLED "")  # the libraries built from source, for the summary line

# Unpacks the pinned source of `name` and sets `out_dir` to it: the sdist's copy in
# third_party/ when there, otherwise a download checked against the pinned SHA256.
function(testmap_fetch name out_dir)
  foreach(entry IN LISTS TESTMAP_THIRD_PARTY)
    string(REPLACE "|" ";" fields "${entry}")
    list(POP_FRONT fields entry_name file sha256)
    if(NOT entry_name STREQUAL name)
      continue()
    endif()
    set(urls ${fields})
    if(EXISTS "${PROJECT_SOURCE_DIR}/third_party/${file}")
      set(urls "${PROJECT_SOURCE_DIR}/third_party/${file}")
    endif()
    # SOURCE_SUBDIR names no directory: unpack only, the targets are defined below.
    set(timestamp "")
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.24)  # the option and its warning came in 3.24
      set(timestamp DOWNLOAD_EXTRACT_TIMESTAMP TRUE)
    endif()
    FetchContent_Declare(testmap_src_${name} URL ${urls} URL_HASH SHA256=${sha256}
      ${timestamp} SOURCE_SUBDIR testmap-no-cmake)
    FetchContent_MakeAvailable(testmap_src_${name})
    set(${out_dir} "${testmap_src_${name}_SOURCE_DIR}" PARENT_SCOPE)
    set(TESTMAP_BUNDLED ${TESTMAP_BUNDLED} ${name} PARENT_SCOPE)
    return()
  endforeach()
  message(FATAL_ERROR "cmake/third_party_sources.cmake has no entry for '${name}'")
endfunction()

# A static archive of pinned sources: position-independent (it goes into the extension)
# and with hidden symbols, so it never interposes on the same library loaded by Python.
function(testmap_static_library name)
  add_library(testmap_dep_${name} STATIC ${ARGN})
  set_target_properties(testmap_dep_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  add_library(testmap::${name} ALIAS testmap_dep_${name})
endfunction()

# A header-only library from its pinned source: its include directory only.
function(testmap_headers name include_dir)
  add_library(testmap_dep_${name} INTERFACE)
  target_include_directories(testmap_dep_${name} SYSTEM INTERFACE "${include_dir}")
  add_library(testmap::${name} ALIAS testmap_dep_${name})
endfunction()

# Uses the system's package `target` when found, otherwise the pinned source.
macro(testmap_system name target)
  add_library(testmap_dep_${name} INTERFACE)
  target_link_libraries(testmap_dep_${name} INTERFACE ${target})
  add_library(testmap::${name} ALIAS testmap_dep_${name})
endmacro()

if(NOT TESTMAP_BUNDLED_DEPS)
  find_package(SQLite3 QUIET)
  find_package(tomlplusplus QUIET)
  find_package(CLI11 QUIET)
  find_package(nlohmann_json QUIET)
  find_package(simdjson QUIET)
  find_package(pugixml QUIET)
  find_package(fmt QUIET)
  find_path(XXHASH_INCLUDE_DIR xxhash.h)
  find_library(XXHASH_LIBRARY xxhash)
  find_path(YAML_INCLUDE_DIR yaml.h)
  find_library(YAML_LIBRARY yaml)
endif()

if(SQLite3_FOUND)
  testmap_system(sqlite SQLite::SQLite3)
else()
  testmap_fetch(sqlite dir)
  # sqlean.py appends its extension loader after the amalgamation's own end marker:
  # compile SQLite up to that marker only.
  set(amalgamation "${CMAKE_CURRENT_BINARY_DIR}/sqlite/sqlite3.c")
  if(NOT EXISTS "${amalgamation}" OR "${dir}/sqlite/sqlite3.c" IS_NEWER_THAN "${amalgamation}")
    file(READ "${dir}/sqlite/sqlite3.c" text)
    set(marker "/************************** End of sqlite3.c ******************************/")
    string(FIND "${text}" "${marker}" end)
    if(end EQUAL -1)
      message(FATAL_ERROR "${dir}/sqlite/sqlite3.c: no '${marker}' line")
    endif()
    string(SUBSTRING "${text}" 0 ${end} text)
    file(WRITE "${amalgamation}" "${text}${marker}\n")
  endif()
  testmap_static_library(sqlite "${amalgamation}")
  target_include_directories(testmap_dep_sqlite SYSTEM PUBLIC "${dir}/sqlite")
  # Threads on, no extension loading (no libdl), the defaults SQLite recommends.
  target_compile_definitions(testmap_dep_sqlite PRIVATE SQLITE_THREADSAFE=1
    SQLITE_OMIT_LOAD_EXTENSION SQLITE_DQS=0 SQLITE_DEFAULT_MEMSTATUS=0)
  target_link_libraries(testmap_dep_sqlite PUBLIC Threads::Threads m)
endif()

if(tomlplusplus_FOUND)
  testmap_system(tomlplusplus tomlplusplus::tomlplusplus)
else()
  testmap_fetch(tomlplusplus dir)
  testmap_headers(tomlplusplus "${dir}/third_party/tomlplusplus/include")
endif()

if(CLI11_FOUND)
  testmap_system(cli11 CLI11::CLI11)
else()
  testmap_fetch(cli11 dir)
  testmap_headers(cli11 "${dir}/include")
endif()

if(nlohmann_json_FOUND)
  testmap_system(nlohmann_json nlohmann_json::nlohmann_json)
else()
  testmap_fetch(nlohmann_json dir)
  testmap_headers(nlohmann_json "${dir}/single_include")
endif()

if(simdjson_FOUND)
  testmap_system(simdjson simdjson::simdjson)
else()
  testmap_fetch(simdjson dir)
  testmap_static_library(simdjson "${dir}/singleheader/simdjson.cpp")
  target_include_directories(testmap_dep_simdjson SYSTEM PUBLIC "${dir}/singleheader")
  target_compile_features(testmap_dep_simdjson PUBLIC cxx_std_17)
endif()

if(pugixml_FOUND)
  testmap_system(pugixml pugixml::pugixml)
else()
  testmap_fetch(pugixml dir)
  testmap_static_library(pugixml "${dir}/src/pugixml.cpp")
  target_include_directories(testmap_dep_pugixml SYSTEM PUBLIC "${dir}/src")
endif()

if(fmt_FOUND)
  testmap_system(fmt fmt::fmt)
else()
  testmap_fetch(fmt dir)
  testmap_static_library(fmt "${dir}/src/format.cc" "${dir}/src/os.cc")
  target_include_directories(testmap_dep_fmt SYSTEM PUBLIC "${dir}/include")
endif()

if(XXHASH_INCLUDE_DIR AND XXHASH_LIBRARY)
  add_library(testmap_dep_xxhash INTERFACE)
  target_include_directories(testmap_dep_xxhash SYSTEM INTERFACE "${XXHASH_INCLUDE_DIR}")
  target_link_libraries(testmap_dep_xxhash INTERFACE "${XXHASH_LIBRARY}")
  add_library(testmap::xxhash ALIAS testmap_dep_xxhash)
else()
  testmap_fetch(xxhash dir)
  testmap_static_library(xxhash "${dir}/xxhash.c")
  target_include_directories(testmap_dep_xxhash SYSTEM PUBLIC "${dir}")
endif()

# libyaml, for compose and CI files (the services a repository already declares).
if(YAML_INCLUDE_DIR AND YAML_LIBRARY)
  add_library(testmap_dep_libyaml INTERFACE)
  target_include_directories(testmap_dep_libyaml SYSTEM INTERFACE "${YAML_INCLUDE_DIR}")
  target_link_libraries(testmap_dep_libyaml INTERFACE "${YAML_LIBRARY}")
  add_library(testmap::libyaml ALIAS testmap_dep_libyaml)
else()
  testmap_fetch(libyaml dir)
  file(GLOB yaml_sources "${dir}/src/*.c")
  testmap_static_library(libyaml ${yaml_sources})
  target_include_directories(testmap_dep_libyaml SYSTEM PUBLIC "${dir}/include")
  target_include_directories(testmap_dep_libyaml PRIVATE "${dir}/src")
  # What its own build's config.h would say; YAML_DECLARE_STATIC: no dllexport markup.
  target_compile_definitions(testmap_dep_libyaml PUBLIC YAML_DECLARE_STATIC)
  target_compile_definitions(testmap_dep_libyaml PRIVATE YAML_VERSION_MAJOR=0
    YAML_VERSION_MINOR=2 YAML_VERSION_PATCH=5 YAML_VERSION_STRING="0.2.5")
endif()

# mimalloc, for the CLI only (the extension leaves allocation to Python): the scanner
# allocates many small strings and classify runs ~15% faster with it. Built from source
# it overrides malloc, operator new and the rest in the executable, with default
# visibility, so libstdc++ and every library loaded allocate through it too.
if(NOT TESTMAP_BUNDLED_DEPS)
  find_package(mimalloc CONFIG QUIET)
endif()
if(mimalloc_FOUND)
  testmap_system(mimalloc mimalloc)
else()
  testmap_fetch(mimalloc dir)
  # Default visibility: every function it overrides (posix_memalign, aligned_alloc, ...,
  # not only malloc and new) must be seen by the shared libraries the executable loads.
  add_library(testmap_dep_mimalloc STATIC "${dir}/src/static.c")
  set_target_properties(testmap_dep_mimalloc PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(testmap::mimalloc ALIAS testmap_dep_mimalloc)
  target_include_directories(testmap_dep_mimalloc SYSTEM PUBLIC "${dir}/include")
  target_compile_definitions(testmap_dep_mimalloc PRIVATE MI_MALLOC_OVERRIDE MI_STATIC_LIB)
  target_link_libraries(testmap_dep_mimalloc PUBLIC Threads::Threads)
endif()

if(TESTMAP_BUNDLED)
  string(REPLACE ";" ", " bundled "${TESTMAP_BUNDLED}")
  message(STATUS "testmap: built from pinned sources and linked statically: ${bundled}")
endif()
