// Escaping every project string for where it lands in the report: HTML text and attribute
// values, and JSON read by the page's scripts (no `<`, `>` or `&` raw anywhere in it).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace testmap::report {

// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted attributes.
std::string html(std::string_view text);

// `value` as JSON for a `<script type="application/json">` element: `<`, `>` and `&` as
// \u003c, \u003e and \u0026 (which JSON reads back as the same characters), so that no
// `</script>` or `<!--` can end or bend the element. Invalid UTF-8 becomes U+FFFD.
std::string script_json(const nlohmann::json& value);
// The same for JSON text already written (valid JSON, as JsonWriter writes it).
std::string script_json_text(std::string_view json_text);

// A cell of a Markdown table: `|` escaped, `<`, `>` and `&` as character references (GitHub
// renders HTML in a job summary), a newline made a space.
std::string markdown_cell(std::string_view text);

}  // namespace testmap::report
