// `repro export --tensorboard`: TensorBoard event files of real runs, read back through the
// spec reader of tests/tfevents_reader.h (no code shared with the writer) and compared bit for
// bit with the run record; a committed run and its golden event file, byte for byte.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "proto/export.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"
#include "tfevents_reader.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::TfEvent;

// The committed 1,000-step mlp_synthetic run and its golden event file (README, "TensorBoard").
const std::string kGoldenRun = "tests/testdata/tensorboard/mlp_synthetic_1000";
const std::string kGoldenDir = "tests/testdata/tensorboard/golden";

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

// started_at ("2026-11-25T13:45:07Z") in Unix seconds, through the C library.
double start_seconds(const std::string& started_at) {
  std::tm tm{};
  EXPECT_NE(strptime(started_at.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << started_at;
  return static_cast<double>(timegm(&tm));
}

proto::ExportReport parse_export(const testing::ProcessResult& r) {
  return testing::parse_json<proto::ExportReport>(r);
}

// Every event of `events` against the run record: the version event, then per step loss, lr
// and grad_norm, and every evaluation after its step; every value's bits equal to the record's
// (float32 as recorded; float64 values rounded to float32, as repro/tensorboard.h says).
void expect_events_match_record(const std::vector<TfEvent>& events, const RunData& run) {
  const double start = start_seconds(run.header.started_at());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[0].wall_time_bits, bits(start));
  ASSERT_EQ(events.size(), 1 + run.steps.size() + run.evals.size());
  std::size_t i = 1, next_eval = 0;
  for (const auto& s : run.steps) {
    const TfEvent& e = events[i++];
    ASSERT_EQ(e.step, s.step());
    EXPECT_EQ(e.wall_time_bits, bits(start + s.elapsed_s())) << "step " << s.step();
    ASSERT_EQ(e.values.size(), 3u) << "step " << s.step();
    ASSERT_EQ(s.loss_case(), proto::StepRecord::kLossF32);
    EXPECT_EQ(e.values[0].tag, "loss");
    EXPECT_EQ(e.values[0].simple_value_bits, bits(s.loss_f32())) << "step " << s.step();
    EXPECT_EQ(e.values[1].tag, "lr");
    EXPECT_EQ(e.values[1].simple_value_bits, bits(static_cast<float>(s.lr()))) << "step " << s.step();
    EXPECT_EQ(e.values[2].tag, "grad_norm");
    EXPECT_EQ(e.values[2].simple_value_bits, bits(static_cast<float>(s.grad_norm()))) << "step " << s.step();
    for (; next_eval < run.evals.size() && run.evals[next_eval].step() <= s.step(); ++next_eval) {
      const auto& ev = run.evals[next_eval];
      const TfEvent& ee = events[i++];
      EXPECT_EQ(ee.step, ev.step());
      EXPECT_EQ(ee.wall_time_bits, bits(start + s.elapsed_s()));
      ASSERT_EQ(ee.values.size(), static_cast<std::size_t>(ev.metrics_size()));
      for (const auto& v : ee.values) {
        const std::string prefix = ev.split() + "/";
        ASSERT_EQ(v.tag.rfind(prefix, 0), 0u) << v.tag;
        const auto metric = ev.metrics().find(v.tag.substr(prefix.size()));
        ASSERT_NE(metric, ev.metrics().end()) << v.tag;
        EXPECT_EQ(v.simple_value_bits, bits(static_cast<float>(metric->second))) << v.tag;
      }
    }
  }
  EXPECT_EQ(next_eval, run.evals.size());
}

std::vector<std::string> all_tags(const std::vector<TfEvent>& events) {
  std::vector<std::string> tags;
  for (const auto& e : events) {
    for (const auto& v : e.values) {
      if (std::find(tags.begin(), tags.end(), v.tag) == tags.end()) tags.push_back(v.tag);
    }
  }
  return tags;
}

TEST(TensorBoardCliTest, AThousandStepRunReadsBackWithEveryValuesBits) {
  TempDir dir;
  const auto r = testing::run_repro({"run", "--config", testing::config_path("mlp_synthetic.textproto"), "--runs-dir",
                                     dir / "runs", "--set", "train.steps=1000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run_dir = testing::last_line(r.out);
  const auto x =
      testing::run_repro({"export", run_dir, "--tensorboard", dir / "tb", "--to", dir / "model.pt", "--json"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const auto report = parse_export(x);
  const RunData run = read_run(run_dir);
  ASSERT_EQ(run.steps.size(), 1000u);
  ASSERT_EQ(run.evals.size(), 21u);  // validation every 50 steps but the last, then validation and test
  EXPECT_EQ(report.snapshot().run_id(), run.header.run_id());
  const auto& tb = report.tensorboard();
  EXPECT_EQ(tb.run_id(), run.header.run_id());
  EXPECT_EQ(fs::path(tb.path()).parent_path(), dir / "tb");
  EXPECT_EQ(fs::path(tb.path()).filename().string(),
            "events.out.tfevents." + std::to_string(static_cast<long long>(start_seconds(run.header.started_at()))) +
                ".reprotorch." + run.header.run_id());
  EXPECT_EQ(tb.events(), 1022);
  EXPECT_EQ(tb.step_events(), 1000);
  EXPECT_EQ(tb.eval_events(), 21);
  EXPECT_EQ(tb.values(), 3000 + 19 * 2 + 2 + 2);

  const auto events = testing::read_tfevents(testing::read_file(tb.path()));
  expect_events_match_record(events, run);
  const std::vector<std::string> expected_tags{
      "loss", "lr", "grad_norm", "validation/accuracy", "validation/loss", "test/accuracy", "test/loss"};
  EXPECT_EQ(all_tags(events), expected_tags);
  EXPECT_EQ(std::vector<std::string>(tb.tags().begin(), tb.tags().end()), expected_tags);
}

TEST(TensorBoardCliTest, TheCommittedRunExportsToItsGoldenFileByteForByte) {
  const std::string run_dir = testing::source_path(kGoldenRun);
  std::vector<fs::path> golden;
  for (const auto& e : fs::directory_iterator(testing::source_path(kGoldenDir))) golden.push_back(e.path());
  ASSERT_EQ(golden.size(), 1u) << "one golden event file in " << kGoldenDir;
  TempDir dir;
  const auto x = testing::run_repro({"export", run_dir, "--tensorboard", dir / "tb"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  const fs::path written = dir / ("tb/" + golden[0].filename().string());
  ASSERT_TRUE(fs::exists(written)) << x.out;
  const std::string bytes = testing::read_file(written.string());
  EXPECT_EQ(bytes, testing::read_file(golden[0].string()))
      << "regenerate with: build/repro export " << kGoldenRun << " --tensorboard " << kGoldenDir;
  EXPECT_EQ(x.out, written.string() +
                       ": 1000 steps, 21 evaluations, 3042 values; tags loss, lr, grad_norm, "
                       "validation/accuracy, validation/loss, test/accuracy, test/loss\n");
  // The golden itself is right by the spec, not only by the writer: every value is the record's.
  const RunData run = read_run(run_dir);
  ASSERT_EQ(run.steps.size(), 1000u);
  expect_events_match_record(testing::read_tfevents(bytes), run);
}

TEST(TensorBoardCliTest, BadInputExitsTwoWithOneLineNamingIt) {
  TempDir dir;
  const std::string run_dir = testing::source_path(kGoldenRun);
  auto expect_refused = [](const testing::ProcessResult& r, const std::string& named) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  };
  expect_refused(testing::run_repro({"export", run_dir}), "--tensorboard");
  expect_refused(testing::run_repro({"export", dir / "missing", "--tensorboard", dir / "tb"}), dir / "missing");
  testing::write_file(dir / "file", "x");
  expect_refused(testing::run_repro({"export", run_dir, "--tensorboard", dir / "file"}), dir / "file");
  EXPECT_EQ(testing::read_file(dir / "file"), "x");
  expect_refused(testing::run_repro({"export", run_dir, "--tensorboard"}), "tensorboard");
  EXPECT_FALSE(fs::exists(dir / "tb"));

  const auto help = testing::run_repro({"export", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("repro export RUN_DIR [--to FILE] [--tensorboard DIR] [--json]"), std::string::npos)
      << help.out;
}

}  // namespace
}  // namespace repro
