// repro/tensorboard.h (harness/src/report/tensorboard.cc): event files of hand-made runs, read
// back through the spec reader of tests/tfevents_reader.h, which shares no code with the writer.
#include "repro/tensorboard.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "repro/error.h"
#include "repro/record.h"
#include "testutil.h"
#include "tfevents_reader.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::read_tfevents;
using testing::TempDir;
using testing::TfEvent;

constexpr std::int64_t kStart = 1795614307;  // 2026-11-25T13:45:07Z (Python: calendar.timegm)

std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

proto::RunRecord header(const std::string& run_id) {
  proto::RunRecord h;
  h.set_run_id(run_id);
  h.set_started_at("2026-11-25T13:45:07Z");
  h.set_status(proto::FINISHED);
  return h;
}

proto::StepRecord step(std::int64_t n, float loss, double lr, double grad_norm, double elapsed_s) {
  proto::StepRecord s;
  s.set_step(n);
  s.set_loss_f32(loss);
  s.set_lr(lr);
  s.set_grad_norm(grad_norm);
  s.set_elapsed_s(elapsed_s);
  return s;
}

proto::EvalRecord eval(std::int64_t n, const std::string& split, const std::map<std::string, double>& metrics) {
  proto::EvalRecord e;
  e.set_step(n);
  e.set_split(split);
  for (const auto& [k, v] : metrics) (*e.mutable_metrics())[k] = v;
  return e;
}

void write_run(const std::string& dir, const proto::RunRecord& h, const std::vector<proto::StepRecord>& steps,
               const std::vector<proto::EvalRecord>& evals) {
  auto writer = RunWriter::create(dir, h);
  for (const auto& s : steps) writer->append_step(s);
  for (const auto& e : evals) writer->append_eval(e);
  writer->flush();
}

std::vector<std::string> tags(const TfEvent& e) {
  std::vector<std::string> out;
  for (const auto& v : e.values) out.push_back(v.tag);
  return out;
}

std::vector<std::uint32_t> value_bits(const TfEvent& e) {
  std::vector<std::uint32_t> out;
  for (const auto& v : e.values) {
    EXPECT_TRUE(v.has_simple_value) << v.tag;
    out.push_back(v.simple_value_bits);
  }
  return out;
}

std::vector<TfEvent> read_export(const proto::TensorBoardExport& result) {
  return read_tfevents(testing::read_file(result.path()));
}

TEST(TensorBoardTest, WritesTheVersionEventThenStepsAndEvaluationsInOrder) {
  TempDir dir;
  write_run(dir / "run", header("20261125-134507-mlp-abc123"),
            {step(0, 0.5f, 0.1, 1.5, 0.25), step(1, 0.25f, 0.05, 0.75, 0.5), step(2, 0.0f, 0.025, 2.0, 0.75)},
            {eval(1, "validation", {{"loss", 0.3}, {"accuracy", 0.9}}), eval(2, "test", {{"accuracy", 0.875}})});
  const auto result = export_tensorboard(dir / "run", dir / "tb");
  EXPECT_EQ(result.path(), dir / "tb/events.out.tfevents.1795614307.reprotorch.20261125-134507-mlp-abc123");
  EXPECT_EQ(result.run_id(), "20261125-134507-mlp-abc123");
  EXPECT_EQ(result.events(), 6);
  EXPECT_EQ(result.step_events(), 3);
  EXPECT_EQ(result.eval_events(), 2);
  EXPECT_EQ(result.values(), 12);
  EXPECT_EQ(
      std::vector<std::string>(result.tags().begin(), result.tags().end()),
      (std::vector<std::string>{"loss", "lr", "grad_norm", "validation/accuracy", "validation/loss", "test/accuracy"}));

  const auto events = read_export(result);
  ASSERT_EQ(events.size(), 6u);
  const double start = static_cast<double>(kStart);
  EXPECT_TRUE(events[0].has_file_version);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_FALSE(events[0].has_summary);
  EXPECT_EQ(events[0].step, 0);
  EXPECT_EQ(events[0].wall_time_bits, bits(start));

  const std::vector<std::string> step_tags{"loss", "lr", "grad_norm"};
  EXPECT_EQ(events[1].step, 0);
  EXPECT_EQ(events[1].wall_time_bits, bits(start + 0.25));
  EXPECT_EQ(tags(events[1]), step_tags);
  EXPECT_EQ(value_bits(events[1]), (std::vector<std::uint32_t>{bits(0.5f), bits(0.1f), bits(1.5f)}));
  EXPECT_EQ(events[2].step, 1);
  EXPECT_EQ(events[2].wall_time_bits, bits(start + 0.5));
  EXPECT_EQ(value_bits(events[2]), (std::vector<std::uint32_t>{bits(0.25f), bits(0.05f), bits(0.75f)}));
  // The evaluation at step 1 follows step 1, metrics in name order, at step 1's wall time.
  EXPECT_EQ(events[3].step, 1);
  EXPECT_EQ(events[3].wall_time_bits, bits(start + 0.5));
  EXPECT_EQ(tags(events[3]), (std::vector<std::string>{"validation/accuracy", "validation/loss"}));
  EXPECT_EQ(value_bits(events[3]), (std::vector<std::uint32_t>{bits(0.9f), bits(0.3f)}));
  // A loss of 0 is written (simple_value keeps its presence on the wire).
  EXPECT_EQ(events[4].step, 2);
  EXPECT_EQ(value_bits(events[4]), (std::vector<std::uint32_t>{0u, bits(0.025f), bits(2.0f)}));
  EXPECT_EQ(events[5].step, 2);
  EXPECT_EQ(events[5].wall_time_bits, bits(start + 0.75));
  EXPECT_EQ(tags(events[5]), (std::vector<std::string>{"test/accuracy"}));
  EXPECT_EQ(value_bits(events[5]), (std::vector<std::uint32_t>{bits(0.875f)}));
}

TEST(TensorBoardTest, NamedSeriesKeepTheirNamesAndFloat64IsRoundedToFloat32) {
  TempDir dir;
  auto h = header("gan");
  h.add_series("d_loss");
  h.add_series("g_loss");
  proto::StepRecord s0;
  s0.set_step(0);
  s0.set_loss_f32(0.7f);
  auto* d = s0.add_values();
  d->set_name("d_loss");
  d->set_f32(0.7f);
  auto* g = s0.add_values();
  g->set_name("g_loss");
  g->set_f64(0.1);
  // A step with only its loss (f64): tagged by the primary series.
  proto::StepRecord s1;
  s1.set_step(1);
  s1.set_loss_f64(1.0 / 3.0);
  write_run(dir / "run", h, {s0, s1}, {});
  const auto result = export_tensorboard(dir / "run", dir / "tb");
  const auto events = read_export(result);
  ASSERT_EQ(events.size(), 3u);
  // lr and grad_norm were never reported (0 in every step): not written.
  EXPECT_EQ(tags(events[1]), (std::vector<std::string>{"d_loss", "g_loss"}));
  EXPECT_EQ(value_bits(events[1]), (std::vector<std::uint32_t>{bits(0.7f), 0x3dcccccdu}));
  EXPECT_EQ(tags(events[2]), (std::vector<std::string>{"d_loss"}));
  EXPECT_EQ(value_bits(events[2]), (std::vector<std::uint32_t>{bits(static_cast<float>(1.0 / 3.0))}));
  EXPECT_EQ(value_bits(events[2])[0], 0x3eaaaaabu);
  EXPECT_EQ(result.values(), 3);
}

TEST(TensorBoardTest, ARunWithoutStepsHoldsOnlyTheVersionEventByteForByte) {
  TempDir dir;
  write_run(dir / "run", header("empty"), {}, {});
  const auto result = export_tensorboard(dir / "run", dir / "tb");
  EXPECT_EQ(result.events(), 1);
  EXPECT_EQ(result.step_events(), 0);
  EXPECT_EQ(result.tags_size(), 0);
  // Event{wall_time=1 (fixed64) kStart, file_version=3 "brain.Event:2"}, spelled out by hand.
  std::string data = "\x09";
  const std::uint64_t wall = bits(static_cast<double>(kStart));
  for (int i = 0; i < 8; ++i) data.push_back(static_cast<char>((wall >> (8 * i)) & 0xff));
  data +=
      "\x1a\x0d"
      "brain.Event:2";
  ASSERT_EQ(data.size(), 24u);
  const std::string length("\x18\0\0\0\0\0\0\0", 8);
  auto le32 = [](std::uint32_t v) {
    std::string s;
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return s;
  };
  const std::string expected = length + le32(testing::tfevents_detail::masked_crc(length)) + data +
                               le32(testing::tfevents_detail::masked_crc(data));
  EXPECT_EQ(testing::read_file(result.path()), expected);
  // The length's masked CRC-32C, computed apart from both readers and writers (Python).
  EXPECT_EQ(testing::tfevents_detail::masked_crc(length), 0x224B7FA3u);
}

TEST(TensorBoardTest, EvaluationsAfterTheLastStepComeLast) {
  TempDir dir;
  write_run(dir / "run", header("r"), {step(0, 1.0f, 0.1, 1.0, 2.0)},
            {eval(5, "test", {{"accuracy", 0.5}}), eval(0, "validation", {{"loss", 2.0}})});
  const auto events = read_export(export_tensorboard(dir / "run", dir / "tb"));
  ASSERT_EQ(events.size(), 4u);
  // evals.bin order: the step-5 evaluation waits for a step >= 5, and the step-0 one after it.
  EXPECT_EQ(tags(events[2]), (std::vector<std::string>{"test/accuracy"}));
  EXPECT_EQ(events[2].step, 5);
  EXPECT_EQ(events[2].wall_time_bits, bits(static_cast<double>(kStart) + 2.0));
  EXPECT_EQ(tags(events[3]), (std::vector<std::string>{"validation/loss"}));
  EXPECT_EQ(events[3].step, 0);

  write_run(dir / "nosteps", header("r2"), {}, {eval(3, "test", {{"accuracy", 0.25}})});
  const auto lone = read_export(export_tensorboard(dir / "nosteps", dir / "tb2"));
  ASSERT_EQ(lone.size(), 2u);
  EXPECT_EQ(lone[1].step, 3);
  EXPECT_EQ(lone[1].wall_time_bits, bits(static_cast<double>(kStart)));
}

TEST(TensorBoardTest, TheSameRecordGivesTheSameBytesAndAReexportReplacesTheFile) {
  TempDir dir;
  write_run(dir / "run", header("r"), {step(0, 0.5f, 0.1, 1.5, 0.125), step(7, 0.25f, 0.1, 1.25, 9.5)},
            {eval(7, "validation", {{"loss", 0.5}})});
  const auto a = export_tensorboard(dir / "run", dir / "a");
  const auto b = export_tensorboard(dir / "run", dir / "b");
  EXPECT_EQ(testing::read_file(a.path()), testing::read_file(b.path()));
  testing::write_file(a.path(), "stale");
  const auto again = export_tensorboard(dir / "run", dir / "a");
  EXPECT_EQ(again.path(), a.path());
  EXPECT_EQ(testing::read_file(a.path()), testing::read_file(b.path()));
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "a")) ++files;
  EXPECT_EQ(files, 1);  // no temporary file left behind
}

TEST(TensorBoardTest, TheSpecReaderDetectsEveryFlippedBit) {
  TempDir dir;
  write_run(dir / "run", header("r"), {step(0, 0.5f, 0.1, 1.5, 0.25)}, {eval(0, "test", {{"accuracy", 0.5}})});
  const auto result = export_tensorboard(dir / "run", dir / "tb");
  const std::string good = testing::read_file(result.path());
  ASSERT_EQ(read_tfevents(good).size(), 3u);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_THROW(read_tfevents(bad), std::runtime_error) << "byte " << i << " bit " << bit;
    }
  }
  EXPECT_THROW(read_tfevents(good.substr(0, good.size() - 1)), std::runtime_error);
  EXPECT_THROW(read_tfevents(good + std::string(3, '\0')), std::runtime_error);
}

TEST(TensorBoardTest, AnOffsetStartTimeIsConvertedToUtc) {
  TempDir dir;
  auto h = header("r");
  h.set_started_at("2026-11-25T14:45:07.250+01:00");
  write_run(dir / "run", h, {}, {});
  EXPECT_EQ(fs::path(export_tensorboard(dir / "run", dir / "tb").path()).filename(),
            "events.out.tfevents.1795614307.reprotorch.r");
}

TEST(TensorBoardTest, BadInputIsAnInputErrorNamingThePath) {
  TempDir dir;
  write_run(dir / "run", header("r/x y"), {step(0, 0.5f, 0.1, 1.5, 0.25)}, {});
  // The out dir is created with its parents; the run id becomes a safe file name.
  const auto ok = export_tensorboard(dir / "run", dir / "deep/er/tb");
  EXPECT_EQ(fs::path(ok.path()).filename(), "events.out.tfevents.1795614307.reprotorch.r_x_y");

  auto kind_and_message = [](auto&& fn) {
    const Error e = testing::thrown_error(fn);
    EXPECT_EQ(e.kind(), ErrorKind::kInput) << e.what();
    return std::string(e.what());
  };
  testing::write_file(dir / "file", "x");
  EXPECT_NE(kind_and_message([&] { export_tensorboard(dir / "run", dir / "file"); }).find(dir / "file"),
            std::string::npos);
  EXPECT_NE(kind_and_message([&] { export_tensorboard(dir / "run", dir / "file/sub"); }).find(dir / "file/sub"),
            std::string::npos);
  EXPECT_NE(kind_and_message([&] { export_tensorboard(dir / "missing", dir / "tb"); }).find(dir / "missing"),
            std::string::npos);
  // The file's own name taken by a directory: refused, not replaced.
  fs::create_directories(dir / "taken/events.out.tfevents.1795614307.reprotorch.r_x_y");
  EXPECT_NE(kind_and_message([&] { export_tensorboard(dir / "run", dir / "taken"); }).find("not a regular file"),
            std::string::npos);
  EXPECT_TRUE(fs::is_directory(dir / "taken/events.out.tfevents.1795614307.reprotorch.r_x_y"));

  auto h = header("bad");
  h.set_started_at("yesterday");
  write_run(dir / "badtime", h, {}, {});
  const std::string msg = kind_and_message([&] { export_tensorboard(dir / "badtime", dir / "tb2"); });
  EXPECT_NE(msg.find("started_at 'yesterday'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir / "badtime"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir / "tb2"));
}

}  // namespace
}  // namespace repro
