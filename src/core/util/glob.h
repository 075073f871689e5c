// Path globs as users write them in config: `*` and `?` within one path segment,
// `**` across any number of segments, `[abc]` classes. Paths use '/'.
#pragma once

#include <string_view>

namespace testmap {

bool glob_match(std::string_view pattern, std::string_view path);

// pytest's python_files/python_classes/python_functions: a glob when the pattern has
// glob characters, else a prefix.
bool pytest_name_match(std::string_view pattern, std::string_view name, bool prefix_if_plain);

}  // namespace testmap
