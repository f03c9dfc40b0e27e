// Portable numerics (issue 14): golden records made on a named machine, rerun here in fresh
// processes; an unpinned run is explained by the kernel setting that differs; --match-kernels
// reruns a record whose kernels this machine would not choose by itself; --portable-check.
// The goldens (tests/testdata/portable/<model>-<variant>/) come from tools/make_portable_goldens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "proto/portability.pb.h"
#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::last_line;
using testing::parse_report;
using testing::run_repro;

std::string golden(const std::string& name) { return testing::source_path("tests/testdata/portable/" + name); }

// The environment fields that are CPU-kernel choices (or the variables that pin them).
bool names_a_kernel_setting(const proto::Difference& d) {
  static const std::set<std::string> kFields = {"environment.torch.cpu_capability",
                                                "environment.onednn.effective_isa",
                                                "environment.blas.core",
                                                "environment.libm.dispatch",
                                                "environment.numerics_env[ATEN_CPU_CAPABILITY]",
                                                "environment.numerics_env[ONEDNN_MAX_CPU_ISA]",
                                                "environment.numerics_env[OPENBLAS_CORETYPE]",
                                                "environment.numerics_env[GLIBC_TUNABLES]"};
  return kFields.count(d.field()) > 0;
}

std::string describe(const proto::ComparisonReport& report) {
  std::string out = report.summary() + "\n";
  for (const auto& d : report.differences()) out += "  " + d.field() + ": " + d.a() + " vs " + d.b() + "\n";
  return out;
}

std::string where_made(const std::string& dir) {
  const RunData run = read_run(dir);
  const auto& env = run.header.environment();
  return env.cpu().model() + " (ATen " + env.torch().cpu_capability() + ", oneDNN " + env.onednn().effective_isa() +
         ", OpenBLAS " + env.blas().core() + ", libm " + env.libm().dispatch() + ")";
}

class PortableGoldenTest : public ::testing::TestWithParam<std::string> {};

// The acceptance test of portable numerics: a record made elsewhere, with determinism.portable,
// gives the same bits here, step by step and parameter digest by digest.
TEST_P(PortableGoldenTest, RerunHereIsBitwiseEqual) {
  testing::TempDir runs;
  const std::string dir = golden(GetParam() + "-portable");
  ASSERT_TRUE(read_run(dir).header.config().determinism().portable());
  const auto r = run_repro({"rerun", dir, "--runs-dir", runs.path().string(), "--json"});
  const auto report = parse_report(r);
  EXPECT_EQ(r.exit_code, 0) << "golden made on " << where_made(dir) << "\n" << describe(report) << r.err;
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << describe(report);
  EXPECT_EQ(report.steps_compared(), read_run(dir).header.config().train().steps());
  EXPECT_EQ(r.err.find("picks other CPU kernels"), std::string::npos) << "pinned runs never warn\n" << r.err;
}

// The same config without pins: equal where this machine picks the recorded kernels, and where
// it does not, the rerun is warned about first and any difference is named as a kernel setting.
TEST_P(PortableGoldenTest, UnpinnedRerunIsEqualOrExplainedByAKernelSetting) {
  testing::TempDir runs;
  const std::string dir = golden(GetParam() + "-native");
  const auto r = run_repro({"rerun", dir, "--runs-dir", runs.path().string(), "--json"});
  const auto report = parse_report(r);
  const bool warned = r.err.find("picks other CPU kernels") != std::string::npos;
  if (report.verdict() == proto::IDENTICAL) {
    EXPECT_EQ(r.exit_code, 0);
    return;
  }
  EXPECT_TRUE(warned) << "a machine that picks other kernels says so before running\n" << r.err;
  EXPECT_EQ(r.exit_code, 1) << describe(report) << r.err;
  EXPECT_EQ(report.summary().find("nondeterminism?"), std::string::npos) << describe(report);
  bool named = false;
  for (const auto& d : report.differences()) named = named || (d.affects_numerics() && names_a_kernel_setting(d));
  EXPECT_TRUE(named) << describe(report);
  // The summary's cause is that kernel: this rerun runs in a git checkout and the golden was
  // made outside one, so the code identity differs too, but an unknown commit and another
  // build only say the code may differ.
  bool cause_is_a_kernel = false;
  for (const auto& d : report.differences()) {
    cause_is_a_kernel =
        cause_is_a_kernel || (names_a_kernel_setting(d) && report.summary().find(d.field()) != std::string::npos);
  }
  EXPECT_TRUE(cause_is_a_kernel) << describe(report);
}

INSTANTIATE_TEST_SUITE_P(Models, PortableGoldenTest, ::testing::Values("mlp", "cnn"));

// Run, like the goldens, outside any git work tree (in `runs`), so that the code identities
// agree and the kernel is the whole difference.
std::string run_golden_config(const std::string& model, const std::string& runs,
                              const std::map<std::string, std::string>& env) {
  const auto r = testing::run_process(
      {testing::repro_binary(), "run", "--config", golden(model + ".textproto"), "--runs-dir", runs}, env, runs);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

// Another machine, simulated by the variables that make this one choose as it would: the
// unpinned golden against a run whose oneDNN has only SSE4.1 (cnn) or whose OpenBLAS runs
// Prescott kernels (mlp). The difference is named by the kernel that changed.
TEST(PortableCliTest, AnotherMachinesKernelsAreNamed) {
  testing::TempDir runs;
  const struct {
    std::string model, variable, value, field;
  } cases[] = {{"cnn", "ONEDNN_MAX_CPU_ISA", "SSE41", "environment.onednn.effective_isa"},
               {"mlp", "OPENBLAS_CORETYPE", "Prescott", "environment.blas.core"}};
  for (const auto& c : cases) {
    const std::string other = run_golden_config(c.model, runs.path().string(), {{c.variable, c.value}});
    const auto r = run_repro({"compare", golden(c.model + "-native"), other, "--json"});
    const auto report = parse_report(r);
    EXPECT_EQ(r.exit_code, 1) << c.model << ": " << describe(report);
    EXPECT_EQ(report.verdict(), proto::DIVERGED) << describe(report);
    EXPECT_EQ(report.summary().find("nondeterminism?"), std::string::npos) << describe(report);
    bool named = false;
    for (const auto& d : report.differences()) named = named || d.field() == c.field;
    EXPECT_TRUE(named) << c.field << " not named:\n" << describe(report);
    // The summary's cause is a kernel (or its variable), not the other build or a library
    // "version" that merely spells the core. On the golden's machine that is c.field; on
    // another one (an Intel Xeon's oneDNN picks AVX-512) another kernel may come first.
    bool cause_is_a_kernel = false;
    for (const auto& d : report.differences()) {
      cause_is_a_kernel =
          cause_is_a_kernel || (names_a_kernel_setting(d) && report.summary().find(d.field()) != std::string::npos);
    }
    EXPECT_TRUE(cause_is_a_kernel) << describe(report);
  }
}

// A record whose libraries chose lower kernels than this machine would (made here with the
// choices pinned through the environment, then with those variables taken out of the record, as
// if that machine had chosen them by itself): a plain rerun warns and diverges, naming the
// kernel; --match-kernels pins the recorded choices and gives the same bits.
TEST(PortableCliTest, MatchKernelsRerunsALowerRecordedLevelBitwise) {
  testing::TempDir runs;
  const std::map<std::string, std::string> lower = {{"ONEDNN_MAX_CPU_ISA", "SSE41"},
                                                    {"OPENBLAS_CORETYPE", "Prescott"},
                                                    {"GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX2,-FMA,-FMA4"}};
  const std::string dir = run_golden_config("cnn", runs.path().string(), lower);
  {
    proto::RunRecord header = read_run(dir).header;
    ASSERT_EQ(header.environment().onednn().effective_isa(), "sse41");
    for (const auto& [name, value] : lower) header.mutable_environment()->mutable_numerics_env()->erase(name);
    std::ofstream out(dir + "/record.pb", std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(header.SerializeToOstream(&out));
  }
  const auto plain = run_repro({"rerun", dir, "--json"});
  const auto plain_report = parse_report(plain);
  EXPECT_NE(plain.err.find("picks other CPU kernels than the run did (oneDNN ISA "), std::string::npos) << plain.err;
  EXPECT_NE(plain.err.find("sse41 in the run"), std::string::npos) << plain.err;
  EXPECT_EQ(plain.exit_code, 1) << describe(plain_report);

  const auto matched = run_repro({"rerun", dir, "--match-kernels", "--json"});
  const auto report = parse_report(matched);
  EXPECT_EQ(matched.exit_code, 0) << describe(report) << matched.err;
  EXPECT_EQ(report.verdict(), proto::IDENTICAL) << describe(report);
  EXPECT_EQ(matched.err.find("picks other CPU kernels"), std::string::npos) << matched.err;
  EXPECT_EQ(read_run(report.run_b()).header.environment().onednn().effective_isa(), "sse41");
}

// A recorded level this CPU cannot run is refused with the reason, before anything starts.
TEST(PortableCliTest, MatchKernelsRefusesKernelsThisCpuCannotRun) {
  if (__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "this CPU runs AVX-512 kernels";
  testing::TempDir runs;
  const std::string dir = run_golden_config("mlp", runs.path().string(), {});
  proto::RunRecord header = read_run(dir).header;
  header.mutable_environment()->mutable_torch()->set_cpu_capability("AVX512");
  {
    std::ofstream out(dir + "/record.pb", std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(header.SerializeToOstream(&out));
  }
  const auto before = std::distance(fs::directory_iterator(runs.path()), fs::directory_iterator());
  const auto r = run_repro({"rerun", dir, "--match-kernels"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find("--match-kernels: the run used ATen CPU capability AVX512 but this CPU lacks avx512f"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(runs.path()), fs::directory_iterator()), before) << "no run started";
}

TEST(PortableCliTest, PortableCheckListsWhatVariesAndWhatIsPinned) {
  const auto open = run_repro({"env", "--portable-check", "--json"});
  EXPECT_EQ(open.exit_code, 1) << open.err;
  proto::PortabilityCheck check;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(open.out, &check).ok()) << open.out;
  EXPECT_FALSE(check.portable());
  std::map<std::string, std::string> status;
  for (const auto& item : check.items()) status[item.setting()] = item.status();
  EXPECT_EQ(status["ATen CPU capability"], "varies");
  EXPECT_EQ(status["oneDNN ISA"], "varies");

  const auto pinned =
      run_repro({"env", "--portable-check", "--config", golden("mlp.textproto"), "--set", "determinism.portable=true"});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;
  EXPECT_EQ(pinned.out.rfind("portable: ", 0), 0u) << pinned.out;
  EXPECT_NE(pinned.out.find("pinned  ATen CPU capability"), std::string::npos) << pinned.out;

  const auto bad = run_repro({"env", "--portable-check", "--set", "determinism.portable=maybe"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err_lines().size(), 1u) << bad.err;
}

// A portable run records the pins it ran under, and `repro show` prints them.
TEST(PortableCliTest, PortableRunRecordsItsPins) {
  const std::string dir = golden("mlp-portable");
  const RunData run = read_run(dir);
  const auto& d = run.header.determinism();
  EXPECT_TRUE(d.portable());
  EXPECT_EQ(d.cpu_capability(), "DEFAULT");
  EXPECT_EQ(d.onednn_effective_isa(), "sse41");
  EXPECT_EQ(d.blas_core(), "Nehalem");
  EXPECT_EQ(d.libm_dispatch(), "sse2");
  const auto show = run_repro({"show", dir});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Nehalem (requested nehalem)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("portable numerics"), std::string::npos) << show.out;
}

}  // namespace
}  // namespace repro
