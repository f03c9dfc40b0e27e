// TorchScript models through the CLI: a module with BatchNorm and dropout, made in C++ and
// saved to disk, trained by `repro run` in fresh processes; the file's digest in the record.
#include <gtest/gtest.h>

#include <fstream>

#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/digest.h"
#include "repro/record.h"
#include "testutil.h"
#include "torchscript_fixture.h"

namespace repro {
namespace {

using testing::last_line;
using testing::parse_report;
using testing::run_repro;

// Synthetic clusters (16 features, 4 classes), SGD with momentum, parameter digests every step.
std::string write_config(const testing::TempDir& dir, const std::string& model_path) {
  const std::string path = dir / "script.textproto";
  testing::write_file(path, "seed: 11\nmodel { torchscript { path: \"" + model_path +
                                "\" } }\n"
                                "data { source: \"synthetic\" synthetic_samples: 512 }\n"
                                "optimizer { name: \"sgd\" lr: 0.05 momentum: 0.9 }\n"
                                "train { steps: 40 batch_size: 32 eval_every: 20 }\n"
                                "record { param_digest_every: 1 }\n");
  return path;
}

std::string run(const std::string& config, const std::string& runs) {
  const auto r = run_repro({"run", "--config", config, "--runs-dir", runs});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

// Flips the sign bit of the first float of the first tensor in the archive (fc1_weight): one
// byte changed, still a valid TorchScript file, one weight negated.
void flip_one_weight_bit(const std::string& path) {
  std::string bytes = testing::read_file(path);
  const auto name = bytes.find("/data/0");
  ASSERT_NE(name, std::string::npos);
  const auto header = bytes.rfind("PK\x03\x04", name);
  ASSERT_NE(header, std::string::npos);
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(static_cast<unsigned char>(bytes[at])) |
           static_cast<std::size_t>(static_cast<unsigned char>(bytes[at + 1])) << 8;
  };
  bytes[header + 30 + u16(header + 26) + u16(header + 28) + 3] ^= 0x80;
  testing::write_file(path, bytes);
}

TEST(TorchScriptCliTest, BatchNormAndDropoutModelTrainsBitwiseIdenticallyTwice) {
  testing::TempDir dir;
  const std::string model = dir / "model.pt";
  testing::write_torchscript_fixture(model, 16, 4);
  const std::string config = write_config(dir, model);
  const std::string a = run(config, dir / "runs");
  const std::string b = run(config, dir / "runs");

  const auto r = run_repro({"compare", a, b, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto report = parse_report(r);
  EXPECT_EQ(report.verdict(), proto::IDENTICAL);
  EXPECT_EQ(report.steps_compared(), 40);

  const RunData run_a = read_run(a);
  const auto& m = run_a.header.model();
  EXPECT_EQ(m.name(), "torchscript");
  EXPECT_EQ(m.file().path(), model);
  EXPECT_EQ(m.file().xxh3(), digest_file(model));
  EXPECT_NE(m.summary().find("batch_norm"), std::string::npos) << m.summary();
  std::vector<std::string> names;
  for (const auto& t : m.tensors()) names.push_back(t.name() + (t.parameter() ? "" : " (buffer)"));
  EXPECT_EQ(names, (std::vector<std::string>{"fc1_weight", "fc1_bias", "bn_weight", "bn_bias", "fc2_weight", "fc2_bias",
                                             "bn_running_mean (buffer)", "bn_running_var (buffer)",
                                             "bn_num_batches_tracked (buffer)"}));
  EXPECT_EQ(m.num_parameters(), 16 * 16 + 16 + 16 + 16 + 4 * 16 + 4);
  // Every step changed the watched tensors (parameters and running statistics), and dropout
  // drew from the seeded generator: equal digests at every step in both runs.
  const RunData run_b = read_run(b);
  ASSERT_EQ(run_a.steps.size(), 40u);
  for (std::size_t i = 0; i < run_a.steps.size(); ++i) {
    EXPECT_EQ(run_a.steps[i].param_digest(), run_b.steps[i].param_digest()) << "step " << i;
    EXPECT_EQ(run_a.steps[i].loss_f32(), run_b.steps[i].loss_f32()) << "step " << i;
  }
  EXPECT_NE(run_a.steps[0].param_digest(), run_a.steps[1].param_digest());
  EXPECT_NE(m.initial_digest(), run_a.header.final_param_digest());
  EXPECT_EQ(run_a.header.status(), proto::FINISHED);
  EXPECT_EQ(run_a.header.final_evals_size(), 2) << "validation and test, in eval mode";
}

TEST(TorchScriptCliTest, RerunAfterOneChangedByteNamesTheModelFile) {
  testing::TempDir dir;
  const std::string model = dir / "model.pt";
  testing::write_torchscript_fixture(model, 16, 4);
  const std::string a = run(write_config(dir, model), dir / "runs");
  EXPECT_EQ(run_repro({"rerun", a}).exit_code, 0) << "unchanged: a clean rerun";
  flip_one_weight_bit(model);

  const auto refused = run_repro({"rerun", a, "--json"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;  // refused
  const auto report = parse_report(refused);
  EXPECT_EQ(report.verdict(), proto::INCOMPARABLE);
  EXPECT_NE(report.summary().find("model.pt content changed"), std::string::npos) << report.summary();
  EXPECT_NE(report.summary().find("--allow-model-change"), std::string::npos) << report.summary();
  ASSERT_EQ(report.differences_size(), 1);
  EXPECT_EQ(report.differences(0).field(), "model.file");

  const auto allowed = run_repro({"rerun", a, "--json", "--allow-model-change"});
  EXPECT_EQ(allowed.exit_code, 1) << allowed.err;
  const auto diverged = parse_report(allowed);
  EXPECT_EQ(diverged.verdict(), proto::DIVERGED);
  bool named = false;
  for (const auto& d : diverged.differences()) {
    if (d.field() == "model.file.xxh3") {
      named = true;
      EXPECT_TRUE(d.affects_numerics());
      EXPECT_NE(d.explanation().find("model.pt content changed"), std::string::npos) << d.explanation();
    }
  }
  EXPECT_TRUE(named) << allowed.out;
  EXPECT_EQ(diverged.first_divergent_step(), 0) << "another initial weight changes the first loss";
}

TEST(TorchScriptCliTest, BadModelFilesAreInputErrorsNamingTheFile) {
  testing::TempDir dir;
  const std::string text = dir / "notes.pt";
  testing::write_file(text, "not a zip archive\n");
  const std::string missing = dir / "missing.pt";
  for (const auto& path : {text, missing}) {
    const auto r = run_repro({"run", "--config", write_config(dir, path), "--runs-dir", dir / "runs"});
    EXPECT_EQ(r.exit_code, 2) << path << "\n" << r.err;
    EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  }
  // A model whose logits do not fit the data's classes (3 vs 4).
  const std::string wrong = dir / "wrong.pt";
  testing::write_torchscript_fixture(wrong, 16, 3);
  const auto r = run_repro({"run", "--config", write_config(dir, wrong), "--runs-dir", dir / "runs"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("wrong.pt: forward returned shape [32, 3]"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace repro
