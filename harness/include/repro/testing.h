// repro/testing.h: model tests in GoogleTest — the doctor's checks (repro/doctor.h) as
// assertions. Header-only; include it in a test that links GoogleTest and reprotorch::harness.
//
// A complete test file for your own module:
//
//   #include <gtest/gtest.h>
//   #include <torch/torch.h>
//   #include <repro/testing.h>
//
//   struct NetImpl : torch::nn::Module {
//     NetImpl() : fc1(register_module("fc1", torch::nn::Linear(16, 64))),
//                 fc2(register_module("fc2", torch::nn::Linear(64, 4))) {}
//     torch::Tensor forward(torch::Tensor x) { return fc2(torch::relu(fc1(x))); }
//     torch::nn::Linear fc1, fc2;
//   };
//   TORCH_MODULE(Net);
//
//   // Four Gaussian clusters in 16 features: a task a healthy Net learns in a few steps.
//   repro::DoctorTarget clusters_target(Net net) {
//     const auto y = torch::randint(4, {512});
//     const auto x = torch::randn({4, 16}).mul(3).index_select(0, y) + torch::randn({512, 16});
//     return repro::testing::target(net, x, y, [net] {
//       return std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
//     });
//   }
//
//   TEST(NetTest, TrainsForTheRightReasons) {
//     torch::manual_seed(1);
//     auto target = clusters_target(Net());
//     EXPECT_MODEL_HEALTHY(target);                       // all six checks
//     EXPECT_DOCTOR_PASS(can_fit, target);                // one check, by its name in repro/doctor.h
//     repro::DoctorOptions quick;
//     quick.trend_steps = 10;
//     EXPECT_DOCTOR_PASS(loss_decreases, target, quick);  // with options
//   }
//
//   TEST(NetTest, FrozenLayerIsNamed) {
//     torch::manual_seed(1);
//     Net net;
//     net->fc1->weight.set_requires_grad(false);  // frozen, yet the optimizer holds it
//     auto target = clusters_target(net);
//     EXPECT_DOCTOR_FAIL(params_updated, "fc1.weight", target);  // fails, naming that tensor
//   }
//
// (tests/unit/testing_example_test.cc is this example, compiled and run.)
//
// On failure the assertion prints the check's verdict line and every figure behind it:
//
//   Doctor check can_fit failed:
//   FAIL can_fit: loss 1.39 -> 1.02 (best 1.02) after 300 steps on a fixed batch of 16 ...
//          initial_loss = 1.39
//          ...
//
// The macros (ASSERT_ variants stop the test):
//   EXPECT_MODEL_HEALTHY(target[, options])          no check fails
//   EXPECT_DOCTOR_PASS(check, target[, options])     check_<check> passes (a skipped check does not)
//   EXPECT_DOCTOR_FAIL(check, subject, target[, options])
//       check_<check> fails, and `subject` (a parameter, layer or "loss"; "" for any) is the
//       subject it names or one of its offenders
// A check that cannot see what it examines is skipped, neither passed nor failed (dead_units
// when no layer output can be traced, repro/doctor.h): EXPECT_MODEL_HEALTHY accepts it, as
// `repro doctor` exits 0 naming it, while EXPECT_DOCTOR_PASS and EXPECT_DOCTOR_FAIL do not, so
// a test that asks for a check by name learns that it saw nothing.
// The checks leave the model as they found it (parameters, buffers, dropout mode).
#pragma once

#include <gtest/gtest.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "repro/doctor.h"

namespace repro::testing {

// A DoctorTarget for a TORCH_MODULE holder (Net) or a std::shared_ptr to a module (NetImpl):
// its forward(x) is the model, `make_optimizer` builds a fresh optimizer over its parameters.
// inputs/targets are the sample pool (see repro/doctor.h); the loss is cross-entropy unless
// you set target.loss.
template <typename ModuleType>
DoctorTarget target(torch::nn::ModuleHolder<ModuleType> model, at::Tensor inputs, at::Tensor targets,
                    std::function<std::unique_ptr<torch::optim::Optimizer>()> make_optimizer) {
  return doctor_target(
      model.ptr(), [model](const at::Tensor& x) mutable { return model->forward(x); }, std::move(make_optimizer),
      std::move(inputs), std::move(targets));
}

template <typename ModuleType>
DoctorTarget target(std::shared_ptr<ModuleType> model, at::Tensor inputs, at::Tensor targets,
                    std::function<std::unique_ptr<torch::optim::Optimizer>()> make_optimizer) {
  return doctor_target(
      model, [model](const at::Tensor& x) { return model->forward(x); }, std::move(make_optimizer), std::move(inputs),
      std::move(targets));
}

// Success when `check` passed; otherwise (failed or skipped) a failure carrying the check's text
// and figures.
inline ::testing::AssertionResult doctor_passes(const proto::DoctorCheck& check) {
  if (check.passed()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "Doctor check " << check.name()
                                       << (check.skipped() ? " was skipped" : " failed") << ":\n"
                                       << format_doctor_check(check);
}

// Success when `check` failed naming `subject` (its subject or one of its offenders; "" for any);
// a skipped check did not fail.
inline ::testing::AssertionResult doctor_fails(const proto::DoctorCheck& check, const std::string& subject) {
  if (check.passed() || check.skipped()) {
    return ::testing::AssertionFailure() << "Doctor check " << check.name()
                                         << (check.skipped() ? " was skipped" : " passed") << ", expected it to fail"
                                         << (subject.empty() ? "" : " naming " + subject) << ":\n"
                                         << format_doctor_check(check);
  }
  bool named = subject.empty() || check.subject() == subject;
  for (const auto& o : check.offenders()) named = named || o == subject;
  if (named) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "Doctor check " << check.name() << " failed, but does not name " << subject
                                       << ":\n"
                                       << format_doctor_check(check);
}

// Success when no check of `report` failed (each passed or was skipped); otherwise the whole
// report.
inline ::testing::AssertionResult doctor_healthy(const proto::DoctorReport& report) {
  if (report.passed()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << format_doctor_report(report);
}

}  // namespace repro::testing

#define EXPECT_MODEL_HEALTHY(...) EXPECT_TRUE(::repro::testing::doctor_healthy(::repro::run_doctor(__VA_ARGS__)))
#define ASSERT_MODEL_HEALTHY(...) ASSERT_TRUE(::repro::testing::doctor_healthy(::repro::run_doctor(__VA_ARGS__)))
#define EXPECT_DOCTOR_PASS(check, ...) EXPECT_TRUE(::repro::testing::doctor_passes(::repro::check_##check(__VA_ARGS__)))
#define ASSERT_DOCTOR_PASS(check, ...) ASSERT_TRUE(::repro::testing::doctor_passes(::repro::check_##check(__VA_ARGS__)))
#define EXPECT_DOCTOR_FAIL(check, subject, ...) \
  EXPECT_TRUE(::repro::testing::doctor_fails(::repro::check_##check(__VA_ARGS__), subject))
#define ASSERT_DOCTOR_FAIL(check, subject, ...) \
  ASSERT_TRUE(::repro::testing::doctor_fails(::repro::check_##check(__VA_ARGS__), subject))
