// Reduces a span of tokens to the text form of docs/outline.md ("reduced
// expressions"), and the small token-span helpers the outline parser shares with it.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/scan/outline.h"
#include "core/scan/token.h"

namespace testmap::scan {

using Tokens = std::span<const Token>;

inline constexpr const char* kEllipsis = "\xE2\x80\xA6";  // U+2026

bool is_keyword(std::string_view name);

// Index of the bracket closing the one at `open`, or tokens.size() if unbalanced.
size_t matching_close(Tokens tokens, size_t open);

// Index of the bracket opening the one at `close`, or tokens.size() if unbalanced.
size_t matching_open(Tokens tokens, size_t close);

// Splits at `sep` operators outside brackets; empty pieces (a trailing comma) are dropped.
std::vector<Tokens> split_top(Tokens tokens, std::string_view sep);

// End of the dotted chain NAME(.NAME)* starting at `i` (exclusive), or `i` if none.
size_t dotted_end(Tokens tokens, size_t i);
std::string dotted_text(Tokens tokens, size_t begin, size_t end);

// The value of a plain string literal (no backslash, no prefix but u); false otherwise.
bool plain_string_value(const Token& token, std::string* value);

// `as_base`: a subscript `Generic[T]` reduces to its value, as class bases do.
Reduced reduce(Tokens tokens, bool as_base = false, int depth = 0);

// The strings an expression spells: one plain string ("a", "a" "b"), or a list, tuple or
// set of plain strings; empty for anything else.
std::vector<std::string> string_values(Tokens tokens);

}  // namespace testmap::scan
