// Trace recording on real ops, and alignment/classification on hand-built op streams.
#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "repro/digest.h"
#include "repro/error.h"
#include "repro/trace.h"
#include "testutil.h"
#include "trace/trace_window.h"

namespace repro {
namespace {

proto::TraceValue tensor_value(const std::string& digest, std::vector<int64_t> shape = {4}) {
  proto::TraceValue v;
  v.set_kind("tensor");
  v.set_dtype("Float");
  for (auto d : shape) v.add_shape(d);
  v.set_digest(digest);
  return v;
}

proto::OpEvent op(const std::string& name, const std::vector<std::string>& in, const std::vector<std::string>& out,
                  proto::Phase phase = proto::FORWARD) {
  proto::OpEvent e;
  e.set_name(name);
  e.set_phase(phase);
  for (const auto& d : in) *e.add_inputs() = tensor_value(d);
  for (const auto& d : out) *e.add_outputs() = tensor_value(d);
  return e;
}

proto::Trace trace(const std::vector<proto::OpEvent>& ops) {
  proto::Trace t;
  auto* s = t.mutable_start()->mutable_state();
  s->set_step(3);
  s->set_param_digest("p");
  (*s->mutable_tensor_digests())["fc.weight"] = "w";
  (*s->mutable_tensor_digests())["fc.bias"] = "b";
  s->set_rng_digest("r");
  s->set_batch_digest("x");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    *t.add_ops() = ops[i];
    t.mutable_ops(static_cast<int>(i))->set_seq(static_cast<int64_t>(i));
  }
  return t;
}

const std::vector<proto::OpEvent> kOps = {op("aten::linear", {"x", "w", "b"}, {"h"}), op("aten::relu", {"h"}, {"r"}),
                                          op("aten::mean", {"r"}, {"m"})};

TEST(AlignTracesTest, IdenticalTracesAreSame) {
  const auto r = align_traces(trace(kOps), trace(kOps));
  EXPECT_EQ(r.verdict(), proto::SAME);
  EXPECT_EQ(r.ops_a(), 3);
  std::string first;
  EXPECT_TRUE(same_outputs(trace(kOps), trace(kOps), &first));
}

TEST(AlignTracesTest, StateDifferenceNamesTheTensorsAndComesFirst) {
  auto a = trace(kOps), b = trace(kOps);
  b.mutable_start()->mutable_state()->set_param_digest("q");
  (*b.mutable_start()->mutable_state()->mutable_tensor_digests())["fc.bias"] = "c";
  b.mutable_start()->mutable_state()->set_rng_digest("s");
  b.mutable_ops(0)->mutable_outputs(0)->set_digest("other");  // ignored: the state comes first
  const auto r = align_traces(a, b);
  EXPECT_EQ(r.verdict(), proto::STATE_DIFFERS);
  ASSERT_EQ(r.state_differences_size(), 2);
  EXPECT_EQ(r.state_differences(0), "parameters (fc.bias)");
  EXPECT_EQ(r.state_differences(1), "RNG state");
  EXPECT_EQ(
      r.summary(),
      "the state entering step 3 already differs: parameters (fc.bias), RNG state — the cause lies before step 3");
}

TEST(AlignTracesTest, SameInputsDifferentOutputsIsNonDeterministic) {
  auto b = kOps;
  b[1].mutable_outputs(0)->set_digest("r2");
  b[2].mutable_inputs(0)->set_digest("r2");  // follows from the first difference: not reported
  b[2].mutable_outputs(0)->set_digest("m2");
  const auto r = align_traces(trace(kOps), trace(b));
  EXPECT_EQ(r.verdict(), proto::NONDETERMINISTIC_OP);
  EXPECT_EQ(r.op_index(), 1);
  EXPECT_EQ(r.op_a().name(), "aten::relu");
  ASSERT_EQ(r.differing_outputs_size(), 1);
  EXPECT_EQ(r.summary(), "op 1 aten::relu (forward): identical inputs, different outputs — a non-deterministic op");
  std::string first;
  EXPECT_FALSE(same_outputs(trace(kOps), trace(b), &first));
  EXPECT_EQ(first, "op 1 aten::relu (forward)");
}

TEST(AlignTracesTest, TextReportShowsTheOpAndItsDigests) {
  auto b = kOps;
  b[1].mutable_outputs(0)->set_digest("r2");
  auto r = align_traces(trace(kOps), trace(b));
  r.set_run_a("runs/a");
  r.set_run_b("runs/b");
  EXPECT_EQ(format_trace_report(r),
            "trace of step 3: runs/a vs runs/b\n"
            "  verdict: non-deterministic op\n"
            "  op 1 aten::relu (forward): identical inputs, different outputs — a non-deterministic op\n"
            "  op 1: aten::relu, fwd, thread 0\n"
            "    input 0: Float[4] h  (same)\n"
            "    output 0: A Float[4] r\n"
            "              B Float[4] r2  (differs)\n"
            "  ops in the window: 3 (A), 3 (B)\n");
}

// The loss line carries the loss exact, in its recorded type: shortest text and bits, as
// `repro show` prints it (not 9 significant digits, which turn a float32 0.1 into 0.100000001).
TEST(TraceFormatTest, LossLineIsExact) {
  auto t = trace(kOps);
  t.mutable_end()->set_window_s(0.5);
  t.mutable_end()->set_loss_f32(0.1f);
  EXPECT_EQ(testing::last_line(format_trace(t)), "3 ops; loss 0.1 (0x3dcccccd); window 0.5 s");
  t.mutable_end()->set_loss_f64(0.1);
  EXPECT_EQ(testing::last_line(format_trace(t)), "3 ops; loss 0.1 (0x3fb999999999999a); window 0.5 s");
  t.mutable_end()->set_loss_f32(-0.0f);
  EXPECT_EQ(testing::last_line(format_trace(t)), "3 ops; loss -0 (0x80000000); window 0.5 s");
}

TEST(AlignTracesTest, DifferentInputsWithoutEarlierDifferenceIsExternal) {
  auto b = kOps;
  b[1].mutable_inputs(0)->set_digest("h2");
  const auto r = align_traces(trace(kOps), trace(b));
  EXPECT_EQ(r.verdict(), proto::EXTERNAL_INPUT);
  EXPECT_EQ(r.op_index(), 1);
  ASSERT_EQ(r.differing_inputs_size(), 1);
  EXPECT_EQ(r.differing_inputs(0), 0);
  EXPECT_NE(r.summary().find("state injected from outside ATen"), std::string::npos);
}

TEST(AlignTracesTest, ScalarInputsCompareByValue) {
  auto a = kOps, b = kOps;
  for (auto* ops : {&a, &b}) {
    auto* s = (*ops)[2].add_inputs();
    s->set_kind("scalar");
    s->set_value(ops == &a ? "0.5" : "0.25");
    s->set_digest(ops == &a ? "d1" : "d2");
  }
  const auto r = align_traces(trace(a), trace(b));
  EXPECT_EQ(r.verdict(), proto::EXTERNAL_INPUT);
  EXPECT_EQ(r.differing_inputs(0), 1);
}

TEST(AlignTracesTest, DifferentOpsOrLengthsAreSequenceMismatches) {
  auto b = kOps;
  b[1].set_name("aten::gelu");
  auto r = align_traces(trace(kOps), trace(b));
  EXPECT_EQ(r.verdict(), proto::SEQUENCE_MISMATCH);
  EXPECT_EQ(r.summary(), "the runs ran different ops: op 1 aten::relu (forward) in A, aten::gelu in B");

  b = kOps;
  *b[1].mutable_inputs(0) = tensor_value("h", {8});
  EXPECT_EQ(align_traces(trace(kOps), trace(b)).verdict(), proto::SEQUENCE_MISMATCH);

  b = kOps;
  b.push_back(op("aten::add_", {"m", "m"}, {"m"}, proto::UPDATE));
  r = align_traces(trace(kOps), trace(b));
  EXPECT_EQ(r.verdict(), proto::SEQUENCE_MISMATCH);
  EXPECT_EQ(r.op_index(), 3);
  EXPECT_EQ(r.summary(),
            "the runs ran different ops: after 3 identical ops, run B goes on with op 3 aten::add_ (update)");
}

TEST(TraceFileTest, RoundTripsAndRejectsIncompleteTraces) {
  testing::TempDir dir;
  auto t = trace(kOps);
  t.mutable_end()->set_loss_f32(0.5f);
  t.mutable_end()->set_ops(3);
  const std::string path = dir / "sub/a.trace";
  write_trace(path, t);
  const auto back = read_trace(path);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, t)) << back.DebugString();
  const std::string data = testing::read_file(path);
  testing::write_file(dir / "cut.trace", data.substr(0, data.size() - 3));
  try {
    read_trace(dir / "cut.trace");
    FAIL() << "a trace without its end frame was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("incomplete trace (no end frame"), std::string::npos) << e.what();
  }
}

// The recorder on real ops: outermost ops only, inputs taken before an in-place op changes
// them, views digested as their values, backward ops inside autograd nodes, user scopes.
TEST(TraceRecorderTest, RecordsOutermostOpsWithInputsBeforeMutation) {
  const at::Tensor w = at::arange(12, at::kFloat).reshape({3, 4}).requires_grad_(true);
  const at::Tensor x = at::ones({2, 4});
  const at::Tensor u = at::ones({2, 4});
  const std::string x_before = digest_tensor(x);
  TraceRecorder recorder({});
  at::Tensor y;
  {
    RECORD_USER_SCOPE("layer");
    y = at::linear(x, w);
  }
  at::Tensor z = u.t();  // a view
  z.add_(1);             // in place, on a non-contiguous view
  y.sum().backward();
  const proto::Trace t = recorder.finish({});
  ASSERT_GE(t.ops_size(), 4);
  EXPECT_EQ(t.ops(0).name(), "aten::linear");  // not the aten::t / aten::matmul inside it
  EXPECT_EQ(t.ops(0).scope(), "layer");
  EXPECT_EQ(t.ops(0).phase(), proto::FORWARD);
  EXPECT_EQ(t.ops(0).inputs(0).digest(), x_before);
  EXPECT_EQ(t.ops(0).outputs(0).shape(1), 3);
  EXPECT_EQ(t.ops(1).name(), "aten::t");
  EXPECT_EQ(t.ops(2).name(), "aten::add_");
  EXPECT_EQ(t.ops(2).inputs(0).digest(), digest_tensor(at::ones({4, 2})));        // before the add
  EXPECT_EQ(t.ops(2).outputs(0).digest(), digest_tensor(at::full({4, 2}, 2.0)));  // after it
  EXPECT_EQ(t.ops(2).inputs(1).kind(), "scalar");
  EXPECT_EQ(t.ops(2).inputs(1).value(), "1");
  bool backward = false;
  for (const auto& o : t.ops()) {
    if (o.phase() != proto::BACKWARD) continue;
    backward = true;
    EXPECT_FALSE(o.autograd_node().empty()) << o.name();
  }
  EXPECT_TRUE(backward);
  EXPECT_EQ(t.end().ops(), t.ops_size());
  // After finish nothing more is recorded, and a second recorder can open.
  TraceRecorder again({});
  (void)(x + 1);
  EXPECT_EQ(again.finish({}).ops_size(), 1);
}

// A collective recorded by ExternalOp: one op in the stream, its inputs taken before the call
// and its outputs after, with the phase of the ops around it; nothing outside a window, and an
// asynchronous RecordFunction (c10d's around its work) neither records nor leaves a scope.
TEST(TraceRecorderTest, ExternalOpIsOneOpWithInputsBeforeAndOutputsAfter) {
  at::Tensor bucket = at::ones({5});
  {
    internal::ExternalOp outside("c10d::allreduce", {bucket});  // no window: nothing recorded
    outside.finish({bucket});
  }
  TraceRecorder recorder({});
  at::Tensor w = at::ones({5}).requires_grad_(true);
  (w * 2).sum().backward();
  {
    at::RecordFunction async(at::RecordScope::USER_SCOPE);
    async._setAsync();
    async.before("gloo:all_reduce");
    internal::ExternalOp collective("c10d::allreduce", {bucket});
    bucket.mul_(3);  // what the other ranks' sum does, outside ATen: not recorded by itself
    collective.finish({bucket});
    async.end();
  }
  (void)(bucket + 1);
  const proto::Trace t = recorder.finish({});
  int found = -1;
  for (int i = 0; i < t.ops_size(); ++i) {
    if (t.ops(i).name() == "c10d::allreduce") found = i;
    EXPECT_NE(t.ops(i).name(), "aten::mul_");  // inside the collective
  }
  ASSERT_GE(found, 0) << t.DebugString();
  const auto& op = t.ops(found);
  EXPECT_EQ(op.phase(), proto::UPDATE);
  ASSERT_EQ(op.inputs_size(), 1);
  EXPECT_EQ(op.inputs(0).digest(), digest_tensor(at::ones({5})));
  EXPECT_EQ(op.outputs(0).digest(), digest_tensor(at::full({5}, 3.0)));
  ASSERT_EQ(found + 1, t.ops_size() - 1);
  EXPECT_EQ(t.ops(found + 1).name(), "aten::add");
  EXPECT_EQ(t.ops(found + 1).scope(), "");  // the async scope did not stay open
}

TEST(AlignTracesTest, CollectiveWithSameInputsAndOtherResultNamesAnotherRank) {
  auto ops = kOps;
  ops.insert(ops.begin() + 2, op("c10d::allreduce", {"g"}, {"sum"}, proto::UPDATE));
  auto b = ops;
  b[2].mutable_outputs(0)->set_digest("sum2");
  const auto r = align_traces(trace(ops), trace(b));
  EXPECT_EQ(r.verdict(), proto::OTHER_RANK);
  EXPECT_EQ(r.op_index(), 2);
  EXPECT_EQ(r.summary(),
            "op 2 c10d::allreduce (update): this rank's inputs are identical, the result differs — another rank "
            "contributed other values (trace the other ranks: --rank R)");
  EXPECT_NE(format_trace_report(r).find("verdict: input from another rank"), std::string::npos);
}

// A TorchScript module's ops come through boxed calls, whose stack holds more than the op's
// arguments: each op records its own inputs and outputs only.
TEST(TraceRecorderTest, TorchScriptOpsRecordTheirOwnInputsAndOutputs) {
  torch::jit::Module m("__torch__.TraceNet");
  m.register_parameter("w", at::ones({3, 4}), false);
  m.define("def forward(self, x):\n    y = torch.linear(x, self.w)\n    return torch.relu(y) + x.sum()\n");
  const at::Tensor x = at::ones({2, 4});
  TraceRecorder recorder({});
  (void)m.forward({x});
  const proto::Trace t = recorder.finish({});
  int seen = 0;
  for (const auto& o : t.ops()) {
    if (o.name() == "aten::linear") {
      ++seen;
      ASSERT_EQ(o.inputs_size(), 3) << o.DebugString();  // input, weight, bias (None)
      EXPECT_EQ(o.inputs(0).digest(), digest_tensor(x));
      ASSERT_EQ(o.outputs_size(), 1) << o.DebugString();
      EXPECT_EQ(o.outputs(0).digest(), digest_tensor(at::full({2, 3}, 4.0)));
    } else if (o.name() == "aten::relu") {
      ++seen;
      EXPECT_EQ(o.inputs_size(), 1) << o.DebugString();
      EXPECT_EQ(o.outputs_size(), 1) << o.DebugString();
    }
  }
  EXPECT_EQ(seen, 2) << t.DebugString();
}

}  // namespace
}  // namespace repro
