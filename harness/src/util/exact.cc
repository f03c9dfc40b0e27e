#include "util/exact.h"

#include <charconv>
#include <cstring>
#include <limits>

namespace repro::internal {
namespace {

// std::to_chars without a precision is the shortest text that reads back to the same value.
template <typename T>
std::string shortest(T value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

std::string hex(std::uint64_t bits, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  for (int i = digits - 1; i >= 0; --i) out += kDigits[(bits >> (4 * i)) & 0xf];
  return out;
}

}  // namespace

std::uint32_t float_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

std::uint64_t double_bits(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_from_bits(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

double double_from_bits(std::uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

std::string bits_hex(float value) { return hex(float_bits(value), 8); }
std::string bits_hex(double value) { return hex(double_bits(value), 16); }

std::string shortest_text(float value) { return shortest(value); }
std::string shortest_text(double value) { return shortest(value); }

std::string text_with_bits(float value) { return shortest_text(value) + " (" + bits_hex(value) + ")"; }
std::string text_with_bits(double value) { return shortest_text(value) + " (" + bits_hex(value) + ")"; }

std::string narrowest_text(double value) {
  const auto f = static_cast<float>(value);
  // NaN never compares equal: it has no narrower exact form to choose, and prints the same.
  return static_cast<double>(f) == value ? shortest_text(f) : shortest_text(value);
}

ExactValue ExactValue::from_bits_hex(std::string_view hex) {
  if (hex.size() != 10 && hex.size() != 18) return {};
  if (hex.substr(0, 2) != "0x") return {};
  std::uint64_t bits = 0;
  const char* end = hex.data() + hex.size();
  const auto [ptr, ec] = std::from_chars(hex.data() + 2, end, bits, 16);
  if (ec != std::errc() || ptr != end) return {};
  if (hex.size() == 10) return ExactValue(float_from_bits(static_cast<std::uint32_t>(bits)));
  return ExactValue(double_from_bits(bits));
}

double ExactValue::value() const {
  switch (type_) {
    case Type::kF32:
      return float_from_bits(static_cast<std::uint32_t>(bits_));
    case Type::kF64:
      return double_from_bits(bits_);
    default:
      return std::numeric_limits<double>::quiet_NaN();
  }
}

std::string ExactValue::text() const {
  switch (type_) {
    case Type::kF32:
      return shortest_text(float_from_bits(static_cast<std::uint32_t>(bits_)));
    case Type::kF64:
      return shortest_text(double_from_bits(bits_));
    default:
      return "-";
  }
}

std::string ExactValue::bits_hex() const {
  switch (type_) {
    case Type::kF32:
      return hex(bits_, 8);
    case Type::kF64:
      return hex(bits_, 16);
    default:
      return "";
  }
}

std::string ExactValue::text_with_bits() const { return has_value() ? text() + " (" + bits_hex() + ")" : "-"; }

}  // namespace repro::internal
