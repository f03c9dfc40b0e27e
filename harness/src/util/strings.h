// Private string helpers: joining, splitting and trimming text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace repro::internal {

// The strings of `parts` (any range of std::string: a vector, a protobuf RepeatedPtrField...)
// with `sep` between each two: join({"a", "", "b"}, ", ") == "a, , b"; "" for no parts.
template <typename Range>
std::string join(const Range& parts, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& part : parts) {
    if (!first) out += sep;
    out += part;
    first = false;
  }
  return out;
}

// `text` with ASCII letters in lower (upper) case; other bytes unchanged: "AVX2_vnni" -> "avx2_vnni".
std::string ascii_lower(std::string text);
std::string ascii_upper(std::string text);

// `text` cut at every `sep`, empty fields kept, so that join(split(t, c), c) == t:
// "a,,b" -> {"a", "", "b"}, ",a," -> {"", "a", ""}, "" -> {""}.
std::vector<std::string> split(std::string_view text, char sep);

// The words of `text`: cut at runs of whitespace (space, \t, \n, \v, \f, \r), no empty words:
// "  a \t b\n" -> {"a", "b"}, "" and " " -> {}.
std::vector<std::string> split_words(std::string_view text);

// `text` without whitespace (as split_words counts it) at either end: " \ta b\r\n" -> "a b".
std::string_view trim(std::string_view text);

// `text` as HTML or XML character data or an attribute value: & < > " ' escaped (' as &#39;,
// which both read), and control characters other than \n and \t dropped (XML 1.0 forbids
// them even escaped).
std::string escape_markup(std::string_view text);

// Whether `text` is well-formed UTF-8 as protobuf requires of a string field (no overlong
// forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// The offset of the first byte of `text` that is not part of well-formed UTF-8; npos when
// there is none.
std::size_t first_invalid_utf8(std::string_view text);

// `text` with each byte that is not part of well-formed UTF-8 written as "\xNN" (lower-case
// hex): "caf\xe9" for the Latin-1 bytes of "café". Valid text comes back unchanged.
std::string escape_invalid_utf8(std::string_view text);

// `text` quoted in a one-line message: escape_invalid_utf8, and control characters (NUL, \r,
// escape sequences of a terminal) written as "\xNN" too, so that a binary file's bytes can
// neither break the line nor reach the terminal; at most `max_bytes` of `text`, then "...".
std::string printable(std::string_view text, std::size_t max_bytes = 80);

// The decimal integer `text`, the value of setting `name` (an environment variable), which must
// lie in [low, high]; anything else (empty, trailing bytes, out of range) is Error::usage
// "NAME: 'TEXT' is not an integer in LOW..HIGH" ("... an integer >= LOW" when high is the
// largest long long).
long long integer_setting(const char* name, const char* text, long long low, long long high);

// `seconds`, the value of setting `name` (a flag or an environment variable), when it lies in
// (0, high]; anything else (zero, negative, NaN, above `high`) is Error::usage
// "NAME: 'SECONDS' is not a number of seconds in (0, HIGH]". seconds_setting parses `text`
// (a decimal number, nothing after it) and checks it so.
double checked_seconds(const char* name, double seconds, double high);
double seconds_setting(const char* name, const char* text, double high);

// Whether the environment variable `name` is set to "1", as the harness sets its own switches
// for the processes it starts (unset, empty or anything else: false).
bool env_flag(const char* name);

}  // namespace repro::internal
