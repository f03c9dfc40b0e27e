// Private string helpers: joining, splitting and trimming text.
#pragma once

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

// `text` cut at every `sep`, empty fields kept, so that join(split(t, c), c) == t:
// "a,,b" -> {"a", "", "b"}, ",a," -> {"", "a", ""}, "" -> {""}.
std::vector<std::string> split(std::string_view text, char sep);

// The words of `text`: cut at runs of whitespace (space, \t, \n, \v, \f, \r), no empty words:
// "  a \t b\n" -> {"a", "b"}, "" and " " -> {}.
std::vector<std::string> split_words(std::string_view text);

// `text` without whitespace (as split_words counts it) at either end: " \ta b\r\n" -> "a b".
std::string_view trim(std::string_view text);

}  // namespace repro::internal
