// Tests for the framed record streams (harness/src/run/record_stream.cc).
#include "run/record_stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "proto/run_record.pb.h"
#include "repro/error.h"
#include "testutil.h"
#include "util/exact.h"

namespace repro {
namespace {

using internal::float_bits;
using internal::float_from_bits;
using internal::read_stream;
using internal::StreamWriter;
using testing::TempDir;

proto::StepRecord make_step(std::int64_t step, float loss) {
  proto::StepRecord r;
  r.set_step(step);
  r.set_loss_f32(loss);
  r.set_lr(0.01 * static_cast<double>(step + 1));
  r.set_grad_norm(1.5 + static_cast<double>(step));
  r.set_param_digest("digest-" + std::to_string(step));
  return r;
}

// A stream file with the given steps, written through StreamWriter.
std::string write_stream(const TempDir& tmp, const std::vector<proto::StepRecord>& steps) {
  const std::string path = tmp / "steps.bin";
  testing::write_file(path, std::string(internal::kStreamMagic));
  StreamWriter writer(path);
  for (const auto& s : steps) writer.append(s);
  writer.flush();
  return path;
}

// Losses whose bits must survive exactly: a NaN with a payload, -0.0, a denormal, infinity.
const std::vector<std::uint32_t> kLossBits = {0x3e9300a1u, 0x7fc12345u, 0x80000000u, 0x00000001u, 0xff800000u};

std::vector<proto::StepRecord> sample_steps() {
  std::vector<proto::StepRecord> steps;
  for (std::size_t i = 0; i < kLossBits.size(); ++i) {
    steps.push_back(make_step(static_cast<std::int64_t>(i), float_from_bits(kLossBits[i])));
  }
  return steps;
}

TEST(RecordStreamTest, RoundTripKeepsLossBitsExactly) {
  TempDir tmp;
  const std::string path = write_stream(tmp, sample_steps());
  const auto got = read_stream<proto::StepRecord>(path);
  EXPECT_FALSE(got.scan.torn);
  EXPECT_EQ(got.scan.frames, kLossBits.size());
  EXPECT_EQ(got.scan.valid_bytes, testing::read_file(path).size());
  ASSERT_EQ(got.records.size(), kLossBits.size());
  for (std::size_t i = 0; i < kLossBits.size(); ++i) {
    EXPECT_EQ(got.records[i].step(), static_cast<std::int64_t>(i));
    ASSERT_TRUE(got.records[i].has_loss_f32());
    EXPECT_EQ(float_bits(got.records[i].loss_f32()), kLossBits[i]) << "step " << i;
    EXPECT_EQ(got.records[i].param_digest(), "digest-" + std::to_string(i));
  }
  EXPECT_TRUE(std::isnan(got.records[1].loss_f32()));
  EXPECT_TRUE(std::signbit(got.records[2].loss_f32()));
}

TEST(RecordStreamTest, EmptyStreamHasNoRecordsAndIsNotTorn) {
  TempDir tmp;
  const std::string path = write_stream(tmp, {});
  const auto got = read_stream<proto::StepRecord>(path);
  EXPECT_TRUE(got.records.empty());
  EXPECT_FALSE(got.scan.torn);
  EXPECT_EQ(got.scan.valid_bytes, internal::kStreamMagic.size());
}

TEST(RecordStreamTest, RecoversFromTruncationAtEveryOffsetOfTheLastFrame) {
  TempDir tmp;
  const auto steps = sample_steps();
  const std::string full = testing::read_file(write_stream(tmp, steps));
  // Where the last frame starts: the size of a stream holding all but the last step.
  TempDir other;
  const std::size_t last_start = testing::read_file(write_stream(other, {steps.begin(), steps.end() - 1})).size();
  ASSERT_LT(last_start, full.size());
  const std::string cut_path = tmp / "cut.bin";
  for (std::size_t cut = last_start; cut < full.size(); ++cut) {
    testing::write_file(cut_path, full.substr(0, cut));
    const auto got = read_stream<proto::StepRecord>(cut_path);
    ASSERT_EQ(got.records.size(), steps.size() - 1) << "cut at " << cut;
    EXPECT_EQ(got.scan.torn, cut > last_start) << "cut at " << cut;
    EXPECT_EQ(got.scan.valid_bytes, last_start) << "cut at " << cut;
    EXPECT_EQ(float_bits(got.records.back().loss_f32()), kLossBits[steps.size() - 2]);
  }
}

TEST(RecordStreamTest, FlippedPayloadByteStopsAtThatFrame) {
  TempDir tmp;
  const auto steps = sample_steps();
  std::string data = testing::read_file(write_stream(tmp, steps));
  TempDir other;
  const std::size_t third_start = testing::read_file(write_stream(other, {steps.begin(), steps.begin() + 2})).size();
  data[third_start + internal::kFrameHeaderSize + 1] ^= 0x40;  // inside the third payload
  const std::string path = tmp / "flipped.bin";
  testing::write_file(path, data);
  const auto got = read_stream<proto::StepRecord>(path);
  ASSERT_EQ(got.records.size(), 2u);
  EXPECT_TRUE(got.scan.torn);
  EXPECT_EQ(got.scan.valid_bytes, third_start);
  EXPECT_EQ(float_bits(got.records[1].loss_f32()), kLossBits[1]);
}

TEST(RecordStreamTest, AbsurdLengthStopsTheScan) {
  TempDir tmp;
  std::string data = testing::read_file(write_stream(tmp, sample_steps()));
  const std::size_t first = internal::kStreamMagic.size();
  data[first + 3] = '\x7f';  // length's high byte: far over 64 MiB
  const std::string path = tmp / "long.bin";
  testing::write_file(path, data);
  const auto got = read_stream<proto::StepRecord>(path);
  EXPECT_TRUE(got.records.empty());
  EXPECT_TRUE(got.scan.torn);
  EXPECT_EQ(got.scan.valid_bytes, first);
}

TEST(RecordStreamTest, BadMagicIsAnInputErrorNamingTheFile) {
  TempDir tmp;
  const std::string path = tmp / "steps.bin";
  testing::write_file(path, "NOTASTRM and then some");
  try {
    read_stream<proto::StepRecord>(path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad magic"), std::string::npos) << e.what();
  }
}

TEST(RecordStreamTest, TruncateStreamCutsTornTailAndAppendsContinue) {
  TempDir tmp;
  const auto steps = sample_steps();
  const std::string path = write_stream(tmp, steps);
  std::string data = testing::read_file(path);
  testing::write_file(path, data.substr(0, data.size() - 3));
  const auto scan = internal::truncate_stream(path);
  EXPECT_TRUE(scan.torn);
  EXPECT_EQ(scan.frames, steps.size() - 1);
  {
    StreamWriter writer(path);
    writer.append(make_step(42, 0.5f));
    writer.flush();
  }
  const auto got = read_stream<proto::StepRecord>(path);
  EXPECT_FALSE(got.scan.torn);
  ASSERT_EQ(got.records.size(), steps.size());
  EXPECT_EQ(got.records.back().step(), 42);
  EXPECT_EQ(got.records.back().loss_f32(), 0.5f);
}

}  // namespace
}  // namespace repro
