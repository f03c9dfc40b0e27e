// Private: exact values. A number the harness records or compares is shown so that it can be read
// back to the same bits: its IEEE-754 bits in hex and its shortest round-trip decimal text, both
// in the type it was recorded in (a float32 loss prints as the float, not as the double it widens
// to). Every loss, metric and report number is printed through here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace repro::internal {

// The IEEE-754 bits of a value, unchanged: NaN payloads and the sign of zero are kept
// (float_bits(-0.0f) == 0x80000000, a NaN 0x7fc00001 stays 0x7fc00001).
std::uint32_t float_bits(float value);
std::uint64_t double_bits(double value);
float float_from_bits(std::uint32_t bits);
double double_from_bits(std::uint64_t bits);

// The bits as the tool prints them: "0x" and 8 lower-case hex digits for a float ("0x3dcccccd"),
// 16 for a double ("0x3fb999999999999a").
std::string bits_hex(float value);
std::string bits_hex(double value);

// The shortest decimal text that strtof (strtod) reads back to the same bits: "0.1", "-0",
// "1e-45", "3.4028235e+38", "inf", "-inf". Every NaN prints "nan" or "-nan" whatever its
// payload: only bits_hex tells NaNs apart.
std::string shortest_text(float value);
std::string shortest_text(double value);

// "<shortest text> (<bits hex>)": "0.1 (0x3dcccccd)", "nan (0x7fc00001)".
std::string text_with_bits(float value);
std::string text_with_bits(double value);

// The shortest text of `value` in the narrowest type that holds it exactly: a double that is a
// widened float32 (a float32 loss kept in a double field or a metric map) prints as that float
// ("0.7737973", which strtof reads back), any other as the double. For numbers whose recorded
// type is lost; where it is known, use ExactValue.
std::string narrowest_text(double value);

// A number with the floating-point type it was recorded in (float32, float64 or none, as a
// record's loss oneof), kept as its bits so that its text and bits are that type's.
class ExactValue {
 public:
  enum class Type { kNone, kF32, kF64 };

  ExactValue() = default;  // no value
  explicit ExactValue(float value) : type_(Type::kF32), bits_(float_bits(value)) {}
  explicit ExactValue(double value) : type_(Type::kF64), bits_(double_bits(value)) {}
  // The value whose bits_hex() is `hex`: "0x" and 8 hex digits is a float32, 16 a float64; any
  // other text (empty, no "0x", another length, a non-hex digit) is no value.
  static ExactValue from_bits_hex(std::string_view hex);

  Type type() const { return type_; }
  bool has_value() const { return type_ != Type::kNone; }
  // The value widened to double (exact for a float32); NaN when there is none.
  double value() const;
  // Same type and same bits: -0 differs from 0, and a NaN equals only a NaN with its payload.
  bool same_bits(const ExactValue& other) const { return type_ == other.type_ && bits_ == other.bits_; }
  // shortest_text in the recorded type; "-" when there is no value.
  std::string text() const;
  // bits_hex in the recorded type; "" when there is no value.
  std::string bits_hex() const;
  // text_with_bits in the recorded type; "-" when there is no value.
  std::string text_with_bits() const;

 private:
  Type type_ = Type::kNone;
  std::uint64_t bits_ = 0;  // a float32's bits in the low 32
};

// The loss of a record with the loss oneof of loss_f32 and loss_f64 (proto::StepRecord,
// proto::TraceEnd); no value when neither is set.
template <typename Record>
ExactValue loss_of(const Record& record) {
  switch (record.loss_case()) {
    case Record::kLossF32:
      return ExactValue(record.loss_f32());
    case Record::kLossF64:
      return ExactValue(record.loss_f64());
    default:
      return ExactValue();
  }
}

// The value of a record with the value oneof of f32 and f64 (proto::NamedValue: a named
// series' value at a step); no value when neither is set.
template <typename Named>
ExactValue value_of(const Named& named) {
  switch (named.value_case()) {
    case Named::kF32:
      return ExactValue(named.f32());
    case Named::kF64:
      return ExactValue(named.f64());
    default:
      return ExactValue();
  }
}

}  // namespace repro::internal
