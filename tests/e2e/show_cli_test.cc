// `repro show` and `repro ls` on run directories written with RunWriter: the real binary.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

#include "proto/run_record.pb.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

using testing::run_repro;
using testing::TempDir;

std::string hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

template <typename Message>
Message parse_json(const std::string& json) {
  Message message;
  google::protobuf::util::JsonParseOptions strict;  // unknown fields are an error
  const auto status = google::protobuf::util::JsonStringToMessage(json, &message, strict);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

// `repro ls --json` prints an array of RunSummary objects.
std::vector<proto::RunSummary> parse_summaries(const std::string& json) {
  const auto list = parse_json<google::protobuf::ListValue>(json);
  std::vector<proto::RunSummary> out;
  for (const auto& value : list.values()) {
    std::string object;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(value, &object).ok());
    out.push_back(parse_json<proto::RunSummary>(object));
  }
  return out;
}

// A finished run of three steps; the last loss is 0.2871f, bits 0x3e92fec5.
void write_run(const std::string& dir, const std::string& run_id, const std::string& started_at) {
  proto::RunRecord header;
  header.set_run_id(run_id);
  header.set_started_at(started_at);
  header.set_hostname(hostname());
  header.set_pid(getpid());
  header.set_status(proto::RUNNING);
  header.set_origin("session");
  header.set_seed(42);
  header.mutable_config()->set_seed(42);
  header.mutable_model()->set_name("mlp");
  header.mutable_model()->set_num_parameters(1234);
  auto writer = RunWriter::create(dir, header);
  const float losses[] = {1.5f, 0.75f, 0.2871f};
  for (int i = 0; i < 3; ++i) {
    proto::StepRecord step;
    step.set_step(i);
    step.set_loss_f32(losses[i]);
    step.set_lr(0.01);
    writer->append_step(step);
  }
  proto::EvalRecord test;
  test.set_step(2);
  test.set_split("test");
  (*test.mutable_metrics())["accuracy"] = 0.875;
  writer->append_eval(test);
  header.set_status(proto::FINISHED);
  header.set_steps_completed(3);
  header.set_finished_at(started_at);
  *header.add_final_evals() = test;
  writer->write_header(header);
}

TEST(ShowCliTest, TextShowsSummaryAndExactFinalLoss) {
  TempDir tmp;
  write_run(tmp / "run-1", "run-1", "2024-05-01T10:00:00Z");
  const auto r = run_repro({"show", tmp / "run-1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("run-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("finished"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 completed / 3 recorded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.2871 (0x3e92fec5)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("test @ step 2: accuracy=0.875"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mlp, 1234 parameters"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("seed: 42"), std::string::npos) << r.out;  // the config, text format
  EXPECT_EQ(r.out.find("loss bits"), std::string::npos) << "no step table without --steps";
}

TEST(ShowCliTest, StepsTableListsEveryStep) {
  TempDir tmp;
  write_run(tmp / "run-1", "run-1", "2024-05-01T10:00:00Z");
  const auto r = run_repro({"show", tmp / "run-1", "--steps"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("loss bits"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.5  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0x3f400000"), std::string::npos) << r.out;  // 0.75f
  EXPECT_NE(r.out.find("0x3e92fec5"), std::string::npos) << r.out;
}

TEST(ShowCliTest, JsonIsARunViewWithSteps) {
  TempDir tmp;
  write_run(tmp / "run-1", "run-1", "2024-05-01T10:00:00Z");
  const auto r = run_repro({"show", tmp / "run-1", "--json", "--steps"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto view = parse_json<proto::RunView>(r.out);
  EXPECT_EQ(view.record().run_id(), "run-1");
  EXPECT_EQ(view.status(), "finished");
  EXPECT_FALSE(view.steps_torn());
  EXPECT_EQ(view.steps_recorded(), 3);
  ASSERT_EQ(view.steps_size(), 3);
  EXPECT_EQ(view.steps(2).loss_f32(), 0.2871f);
  ASSERT_EQ(view.evals_size(), 1);
  EXPECT_EQ(view.evals(0).metrics().at("accuracy"), 0.875);

  const auto plain = run_repro({"show", tmp / "run-1", "--json"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto no_steps = parse_json<proto::RunView>(plain.out);
  EXPECT_EQ(no_steps.steps_size(), 0);
  EXPECT_EQ(no_steps.steps_recorded(), 3);
}

TEST(ShowCliTest, InterruptedRunShowsTornTailAndReason) {
  TempDir tmp;
  const std::string dir = tmp / "run-1";
  write_run(dir, "run-1", "2024-05-01T10:00:00Z");
  proto::RunRecord header;
  ASSERT_TRUE(header.ParseFromString(testing::read_file(dir + "/record.pb")));
  header.set_status(proto::RUNNING);
  header.set_pid(0);  // no process: reads as interrupted
  testing::write_file(dir + "/record.pb", header.SerializeAsString());
  const std::string steps = testing::read_file(dir + "/steps.bin");
  testing::write_file(dir + "/steps.bin", steps.substr(0, steps.size() - 1));
  const auto r = run_repro({"show", dir, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto view = parse_json<proto::RunView>(r.out);
  EXPECT_EQ(view.status(), "interrupted");
  EXPECT_NE(view.status_reason().find("is gone"), std::string::npos) << view.status_reason();
  EXPECT_TRUE(view.steps_torn());
  EXPECT_EQ(view.steps_recorded(), 2);
}

TEST(ShowCliTest, LsJsonListsRunsOldestFirst) {
  TempDir tmp;
  const std::string runs = tmp / "runs";
  write_run(runs + "/b", "run-b", "2024-05-02T10:00:00Z");
  write_run(runs + "/a", "run-a", "2024-05-03T10:00:00Z");
  const auto r = run_repro({"ls", runs, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summaries = parse_summaries(r.out);
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_EQ(summaries[0].run_id(), "run-b");
  EXPECT_EQ(summaries[1].run_id(), "run-a");
  EXPECT_EQ(summaries[0].model(), "mlp");
  EXPECT_EQ(summaries[0].status(), "finished");
  EXPECT_EQ(summaries[0].steps(), 3);
  EXPECT_EQ(summaries[0].final_loss(), static_cast<double>(0.2871f));
  EXPECT_EQ(summaries[0].final_loss_bits(), "0x3e92fec5");
  EXPECT_EQ(summaries[0].test_accuracy(), 0.875);

  const auto text = run_repro({"ls", runs});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_LT(text.out.find("run-b"), text.out.find("run-a")) << text.out;
  EXPECT_NE(text.out.find("0.2871 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("0.875"), std::string::npos) << text.out;
}

TEST(ShowCliTest, LsOfMissingDirIsEmpty) {
  TempDir tmp;
  const auto r = run_repro({"ls", tmp / "none", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(parse_summaries(r.out).empty());
}

TEST(ShowCliTest, MissingRunDirIsExit2WithOneLine) {
  const auto r = run_repro({"show", "/nonexistent"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_EQ(r.err_lines()[0], "repro: /nonexistent: not a run directory (no record.pb)");
}

TEST(ShowCliTest, CorruptRecordIsExit2WithOneLine) {
  TempDir tmp;
  write_run(tmp / "run-1", "run-1", "2024-05-01T10:00:00Z");
  testing::write_file(tmp / "run-1/record.pb", "this is not a run record");
  const auto r = run_repro({"show", tmp / "run-1", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_EQ(r.err_lines()[0], "repro: " + tmp / "run-1/record.pb" + ": corrupt run record");
}

}  // namespace
}  // namespace repro
