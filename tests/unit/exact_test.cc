#include "util/exact.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>

#include "proto/run_record.pb.h"
#include "proto/trace.pb.h"

namespace repro::internal {
namespace {

constexpr float kInfF = std::numeric_limits<float>::infinity();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(ExactTest, FloatKnownAnswers) {
  EXPECT_EQ(float_bits(0.1f), 0x3dcccccdu);
  EXPECT_EQ(bits_hex(0.1f), "0x3dcccccd");
  EXPECT_EQ(shortest_text(0.1f), "0.1");
  EXPECT_EQ(text_with_bits(0.1f), "0.1 (0x3dcccccd)");

  EXPECT_EQ(float_bits(-0.0f), 0x80000000u);
  EXPECT_EQ(shortest_text(-0.0f), "-0");
  EXPECT_EQ(bits_hex(0.0f), "0x00000000");  // leading zeros kept: always 8 digits

  const float tiny = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(float_bits(tiny), 0x00000001u);
  EXPECT_EQ(bits_hex(tiny), "0x00000001");
  EXPECT_EQ(shortest_text(tiny), "1e-45");

  EXPECT_EQ(float_bits(FLT_MAX), 0x7f7fffffu);
  EXPECT_EQ(shortest_text(FLT_MAX), "3.4028235e+38");
  EXPECT_EQ(text_with_bits(kInfF), "inf (0x7f800000)");
  EXPECT_EQ(text_with_bits(-kInfF), "-inf (0xff800000)");
}

TEST(ExactTest, DoubleKnownAnswers) {
  EXPECT_EQ(double_bits(0.1), 0x3fb999999999999aULL);
  EXPECT_EQ(bits_hex(0.1), "0x3fb999999999999a");
  EXPECT_EQ(shortest_text(0.1), "0.1");
  EXPECT_EQ(shortest_text(static_cast<double>(0.1f)), "0.10000000149011612");  // the float's widening

  EXPECT_EQ(double_bits(-0.0), 0x8000000000000000ULL);
  EXPECT_EQ(text_with_bits(-0.0), "-0 (0x8000000000000000)");

  const double tiny = 4.9406564584124654e-324;
  EXPECT_EQ(tiny, std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(double_bits(tiny), 1u);
  EXPECT_EQ(bits_hex(tiny), "0x0000000000000001");
  EXPECT_EQ(shortest_text(tiny), "5e-324");

  EXPECT_EQ(shortest_text(DBL_MAX), "1.7976931348623157e+308");
  EXPECT_EQ(text_with_bits(-kInf), "-inf (0xfff0000000000000)");
}

// A NaN's payload lives in its bits only: the bits functions keep it, the text cannot.
TEST(ExactTest, NanPayloadSurvivesTheBitsFunctions) {
  const float nan = float_from_bits(0x7fc00001u);
  ASSERT_TRUE(std::isnan(nan));
  EXPECT_EQ(float_bits(nan), 0x7fc00001u);
  EXPECT_EQ(bits_hex(nan), "0x7fc00001");
  EXPECT_EQ(shortest_text(nan), "nan");
  EXPECT_EQ(text_with_bits(nan), "nan (0x7fc00001)");
  EXPECT_EQ(shortest_text(float_from_bits(0xffc00000u)), "-nan");

  const double dnan = double_from_bits(0x7ff8000000000001ULL);
  EXPECT_EQ(double_bits(dnan), 0x7ff8000000000001ULL);
  EXPECT_EQ(text_with_bits(dnan), "nan (0x7ff8000000000001)");

  // Through ExactValue too: a float32 NaN keeps its payload in its own type.
  const ExactValue v(nan);
  EXPECT_EQ(v.bits_hex(), "0x7fc00001");
  EXPECT_TRUE(v.same_bits(ExactValue(float_from_bits(0x7fc00001u))));
  EXPECT_FALSE(v.same_bits(ExactValue(float_from_bits(0x7fc00000u))));
}

// Shortest text reads back to the same bits for any non-NaN pattern: random bits cover
// normals, subnormals and both signs of every exponent.
TEST(ExactTest, ShortestTextRoundTripsRandomBitPatterns) {
  std::mt19937_64 rng(20240518);
  int checked = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t r = rng();
    const float f = float_from_bits(static_cast<std::uint32_t>(r));
    if (!std::isnan(f)) {
      const std::string text = shortest_text(f);
      ASSERT_EQ(float_bits(std::strtof(text.c_str(), nullptr)), float_bits(f)) << text;
      ++checked;
    }
    const double d = double_from_bits(r);
    if (!std::isnan(d)) {
      const std::string text = shortest_text(d);
      ASSERT_EQ(double_bits(std::strtod(text.c_str(), nullptr)), double_bits(d)) << text;
      ++checked;
    }
  }
  EXPECT_GT(checked, 390000);
}

TEST(ExactTest, NarrowestTextPrintsAWidenedFloatAsTheFloat) {
  EXPECT_EQ(narrowest_text(static_cast<double>(0.7737973f)), "0.7737973");
  EXPECT_EQ(narrowest_text(0.1), "0.1");  // not a float: the double's text
  EXPECT_EQ(narrowest_text(1e300), "1e+300");
  EXPECT_EQ(narrowest_text(-0.0), "-0");
  EXPECT_EQ(narrowest_text(std::nan("")), "nan");
}

TEST(ExactTest, ExactValuePrintsInItsRecordedType) {
  const ExactValue f(0.1f);
  EXPECT_EQ(f.type(), ExactValue::Type::kF32);
  EXPECT_EQ(f.value(), static_cast<double>(0.1f));
  EXPECT_EQ(f.text(), "0.1");  // not 0.10000000149011612
  EXPECT_EQ(f.bits_hex(), "0x3dcccccd");
  EXPECT_EQ(f.text_with_bits(), "0.1 (0x3dcccccd)");

  const ExactValue d(static_cast<double>(0.1f));
  EXPECT_EQ(d.type(), ExactValue::Type::kF64);
  EXPECT_EQ(d.text(), "0.10000000149011612");
  EXPECT_EQ(d.bits_hex(), "0x3fb99999a0000000");
  EXPECT_FALSE(f.same_bits(d));  // the same number in another type
  EXPECT_FALSE(ExactValue(0.0f).same_bits(ExactValue(-0.0f)));

  const ExactValue none;
  EXPECT_FALSE(none.has_value());
  EXPECT_TRUE(std::isnan(none.value()));
  EXPECT_EQ(none.text(), "-");
  EXPECT_EQ(none.bits_hex(), "");
  EXPECT_EQ(none.text_with_bits(), "-");
  EXPECT_TRUE(none.same_bits(ExactValue()));
}

TEST(ExactTest, FromBitsHexInvertsBitsHex) {
  const ExactValue f = ExactValue::from_bits_hex("0x7fc00001");
  EXPECT_EQ(f.type(), ExactValue::Type::kF32);
  EXPECT_EQ(f.bits_hex(), "0x7fc00001");
  const ExactValue d = ExactValue::from_bits_hex("0x8000000000000000");
  EXPECT_EQ(d.type(), ExactValue::Type::kF64);
  EXPECT_EQ(d.text(), "-0");
  EXPECT_EQ(ExactValue::from_bits_hex("0x3DCCCCCD").text(), "0.1");
  for (const char* bad : {"", "0x", "3dcccccd00", "0x3dcccccd0", "0x3dcccccg", "0x-dcccccd", "1x3dcccccd"}) {
    EXPECT_FALSE(ExactValue::from_bits_hex(bad).has_value()) << bad;
  }
}

TEST(ExactTest, LossOfReadsTheLossOneofOfARecord) {
  proto::StepRecord step;
  EXPECT_FALSE(loss_of(step).has_value());
  step.set_loss_f32(0.2871f);
  EXPECT_EQ(loss_of(step).text_with_bits(), "0.2871 (0x3e92fec5)");
  step.set_loss_f64(0.2871);
  EXPECT_EQ(loss_of(step).text_with_bits(), "0.2871 (0x3fd25fd8adab9f56)");

  proto::TraceEnd end;
  end.set_loss_f32(float_from_bits(0x7fc00001u));
  EXPECT_EQ(loss_of(end).bits_hex(), "0x7fc00001");
}

}  // namespace
}  // namespace repro::internal
