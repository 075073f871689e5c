// PEP 263 and universal newlines: what CPython does to source bytes before tokenizing.
#include "core/scan/source.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace testmap::scan {
namespace {

std::string_view line_at(std::string_view s, size_t start) {
  size_t end = s.find('\n', start);
  return s.substr(start, end == std::string_view::npos ? s.size() - start : end - start);
}

// The coding cookie regex from PEP 263: ^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)
std::string find_cookie(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\f')) ++i;
  if (i >= line.size() || line[i] != '#') return {};
  size_t pos = line.find("coding", i);
  if (pos == std::string_view::npos) return {};
  pos += 6;
  if (pos >= line.size() || (line[pos] != ':' && line[pos] != '=')) return {};
  ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  size_t start = pos;
  while (pos < line.size() && (std::isalnum(static_cast<unsigned char>(line[pos])) ||
                               line[pos] == '-' || line[pos] == '_' || line[pos] == '.'))
    ++pos;
  std::string name(line.substr(start, pos - start));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c == '_' ? '-' : static_cast<char>(std::tolower(c));
  });
  return name;
}

bool is_blank_or_comment(std::string_view line) {
  for (char c : line) {
    if (c == '#') return true;
    if (c != ' ' && c != '\t' && c != '\f' && c != '\r') return false;
  }
  return true;
}

bool is_latin1(const std::string& enc) {
  return enc == "latin-1" || enc == "iso-8859-1" || enc == "iso8859-1" || enc == "latin1" ||
         enc.starts_with("iso-8859-1-") || enc.starts_with("latin-1-") || enc == "l1";
}

bool is_utf8_name(const std::string& enc) {
  return enc == "utf-8" || enc == "utf8" || enc.starts_with("utf-8-") || enc == "ascii" ||
         enc == "us-ascii";
}

// Length of the valid UTF-8 sequence at s[i], or 0 if it is not one.
size_t utf8_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
  if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
  if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // > U+10FFFF
  return n;
}

}  // namespace

SourceText decode_source(std::string_view bytes) {
  SourceText out;
  bool bom = bytes.starts_with("\xEF\xBB\xBF");
  if (bom) bytes.remove_prefix(3);

  std::string enc;
  std::string_view first = line_at(bytes, 0);
  enc = find_cookie(first);
  if (enc.empty() && is_blank_or_comment(first) && first.size() < bytes.size())
    enc = find_cookie(line_at(bytes, first.size() + 1));
  bool latin1 = is_latin1(enc);
  bool validate = enc.empty() || is_utf8_name(enc);
  if (!enc.empty() && !latin1 && !validate) {
    // An encoding we do not decode (cp1252, koi8-r...): ASCII is the same in all of
    // them, so the outline is right except inside non-ASCII strings and names.
    out.error_line = 0;
  }

  // Fast path, nearly every file: UTF-8 (or ASCII), "\n" endings, no NUL.
  if (!latin1) {
    size_t i = 0;
    const size_t n = bytes.size();
    bool simple = true;
    while (i < n) {
      // Eight bytes at a time while they are ASCII without '\r' or NUL.
      constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
      while (i + 8 <= n) {
        uint64_t w;
        std::memcpy(&w, bytes.data() + i, 8);
        uint64_t cr = w ^ (kOnes * '\r');
        uint64_t special = ((w - kOnes) & ~w) | ((cr - kOnes) & ~cr);  // a NUL or '\r' byte
        if ((w | special) & kHigh) break;
        i += 8;
      }
      if (i >= n) break;
      auto u = static_cast<unsigned char>(bytes[i]);
      if (u >= 0x80) {
        size_t len = validate ? utf8_len(bytes, i) : 1;
        if (len == 0) {
          simple = false;
          break;
        }
        i += len;
      } else if (u == '\r' || u == 0) {
        simple = false;
        break;
      } else {
        ++i;
      }
    }
    if (simple) {
      out.text.assign(bytes);
      return out;
    }
  }
  out.text.reserve(bytes.size() + bytes.size() / 64);
  int line = 1;
  for (size_t i = 0; i < bytes.size();) {
    char c = bytes[i];
    if (c == '\r') {
      out.text.push_back('\n');
      ++line;
      i += (i + 1 < bytes.size() && bytes[i + 1] == '\n') ? 2 : 1;
      continue;
    }
    if (c == '\n') ++line;
    if (c == '\0' && out.error.empty()) {
      out.error_line = line;
      out.error = "source code contains a null byte";
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80 || (!latin1 && !validate)) {
      out.text.push_back(c);
      ++i;
    } else if (latin1) {
      out.text.push_back(static_cast<char>(0xC0 | (u >> 6)));
      out.text.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      ++i;
    } else {
      size_t n = utf8_len(bytes, i);
      if (n == 0) {
        if (out.error.empty()) {
          out.error_line = line;
          out.error =
              fmt::format("invalid UTF-8 byte 0x{:02x} (no coding declaration says otherwise)", u);
        }
        out.text.push_back(c);
        ++i;
      } else {
        out.text.append(bytes.substr(i, n));
        i += n;
      }
    }
  }
  return out;
}

}  // namespace testmap::scan
