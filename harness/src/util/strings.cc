#include "util/strings.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "repro/error.h"
#include "util/exact.h"

namespace repro::internal {
namespace {

constexpr std::string_view kWhitespace = " \t\n\v\f\r";

}  // namespace

std::string ascii_lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string ascii_upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(sep, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  for (std::size_t start = text.find_first_not_of(kWhitespace); start != std::string_view::npos;) {
    const std::size_t end = text.find_first_of(kWhitespace, start);
    words.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    start = text.find_first_not_of(kWhitespace, end);
  }
  return words;
}

std::string_view trim(std::string_view text) {
  const std::size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kWhitespace) - first + 1);
}

std::string escape_markup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

namespace {

// The length of the well-formed UTF-8 sequence at text[i], 0 when there is none.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return n;
}

}  // namespace

std::size_t first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

bool is_valid_utf8(std::string_view text) { return first_invalid_utf8(text) == std::string_view::npos; }

std::string escape_invalid_utf8(std::string_view text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      const auto b = static_cast<unsigned char>(text[i]);
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string printable(std::string_view text, std::size_t max_bytes) {
  const bool cut = text.size() > max_bytes;
  std::string out = escape_invalid_utf8(text.substr(0, max_bytes));
  std::string clean;
  clean.reserve(out.size());
  static const char* const kHex = "0123456789abcdef";
  for (const char ch : out) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x20 || b == 0x7f) {
      clean += "\\x";
      clean += kHex[b >> 4];
      clean += kHex[b & 0xf];
    } else {
      clean += ch;
    }
  }
  if (cut) clean += "...";
  return clean;
}

long long integer_setting(const char* name, const char* text, long long low, long long high) {
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (*text == '\0' || std::isspace(static_cast<unsigned char>(*text)) || *end != '\0' || errno != 0 || value < low ||
      value > high) {
    const std::string range =
        high == LLONG_MAX ? " >= " + std::to_string(low) : " in " + std::to_string(low) + ".." + std::to_string(high);
    throw Error::usage(std::string(name) + ": '" + printable(text) + "' is not an integer" + range);
  }
  return value;
}

namespace {
bool is_seconds(double value, double high) { return value > 0 && value <= high; }  // NaN is not

[[noreturn]] void not_seconds(const char* name, const std::string& text, double high) {
  throw Error::usage(std::string(name) + ": '" + printable(text) + "' is not a number of seconds in (0, " +
                     shortest_text(high) + "]");
}
}  // namespace

double checked_seconds(const char* name, double seconds, double high) {
  if (!is_seconds(seconds, high)) not_seconds(name, shortest_text(seconds), high);
  return seconds;
}

double seconds_setting(const char* name, const char* text, double high) {
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text, &end);
  if (*text == '\0' || std::isspace(static_cast<unsigned char>(*text)) || *end != '\0' || errno != 0 ||
      !is_seconds(value, high)) {
    not_seconds(name, text, high);
  }
  return value;
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::string_view(v) == "1";
}

}  // namespace repro::internal
