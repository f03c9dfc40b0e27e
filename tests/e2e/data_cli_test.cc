// Data of wrapped programs (issue 12 acceptance (a)), in fresh processes on real Fashion-MNIST
// files: a data directory given on the command line, then to track_data; files added to it and
// labels changed under the same path; `repro rerun` and `repro compare` name the directory and
// the counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/data.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::parse_report;
using testing::run_process;
using testing::run_repro;

const char kDataset[] = "/usr/share/datasets/fashion-mnist";

void run_shell(const std::string& command) { ASSERT_EQ(std::system(command.c_str()), 0) << command; }

// The four Fashion-MNIST files in `dir`.
void copy_dataset(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(kDataset)) fs::copy_file(e.path(), dir / e.path().filename());
}

// Two files added, and the first 256 training labels changed (gzip rewritten under the same path).
void change_dataset(const fs::path& dir) {
  fs::create_directories(dir / "extra");
  testing::write_file((dir / "extra" / "notes.txt").string(), "relabelled\n");
  testing::write_file((dir / "extra" / "more.bin").string(), std::string(100, '\7'));
  const std::string gz = (dir / "train-labels-idx1-ubyte.gz").string();
  const std::string raw = (dir.parent_path() / "labels.raw").string();
  run_shell("gzip -dc '" + gz + "' > '" + raw + "'");
  std::string labels = testing::read_file(raw);
  ASSERT_EQ(labels.size(), 60008u);
  for (std::size_t i = 8; i < 8 + 256; ++i) labels[i] = static_cast<char>((labels[i] + 1) % 10);
  testing::write_file(raw, labels);
  run_shell("gzip -nc '" + raw + "' > '" + gz + "'");
}

std::vector<std::string> run_dirs(const fs::path& runs) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(runs)) {
    if (e.is_directory()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const proto::Difference* find_field(const proto::ComparisonReport& report, const std::string& field) {
  for (const auto& d : report.differences()) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

const proto::InputFile* find_role(const proto::RunRecord& h, const std::string& role) {
  for (const auto& f : h.data().files()) {
    if (f.role() == role) return &f;
  }
  return nullptr;
}

// (a), first half: the usual program (models/examples/mnist_repro) given only its data
// directory on the command line. The change does not refuse the rerun (a command-line path may
// be an output), and both the rerun and compare name the directory and the counts as the cause.
TEST(DataScenarioTest, CommandLineDirectoryChangeIsNamedAsTheCause) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  copy_dataset(data);
  const std::map<std::string, std::string> env = {{"REPRO_DIGEST_CACHE", dir / "cache"}};
  const auto made = run_process({REPRO_MNIST_REPRO, data.string(), "5", "256"}, env, dir.path().string());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto runs = run_dirs(dir.path() / "runs");
  ASSERT_EQ(runs.size(), 1u);
  const std::string a = runs[0];
  const RunData original = read_run(a);
  ASSERT_EQ(original.header.data().files_size(), 1) << "argv[2] and argv[3] are numbers, not paths";
  const auto* tracked = find_role(original.header, "argv[1]");
  ASSERT_NE(tracked, nullptr);
  EXPECT_TRUE(tracked->directory());
  EXPECT_EQ(tracked->file_count(), 4);
  EXPECT_EQ(tracked->tracked_by(), proto::TRACKED_BY_ARGV);
  EXPECT_EQ(tracked->path(), data.string());
  EXPECT_EQ(tracked->manifest(), "data/argv-1.manifest.pb");
  EXPECT_EQ(read_manifest(a + "/" + tracked->manifest()).entries_size(), 4);

  change_dataset(data);
  const auto rr = run_repro({"rerun", a, "--json"}, env);
  EXPECT_EQ(rr.exit_code, 1) << rr.err;  // ran, and diverged
  const auto report = parse_report(rr);
  EXPECT_EQ(report.verdict(), proto::DIVERGED);
  ASSERT_TRUE(report.has_first_divergent_step());
  EXPECT_EQ(report.first_divergent_step(), 0);
  const std::string cause = "data.files[argv[1]].files: " + data.string() + ": 2 files added, 1 changed";
  EXPECT_NE(report.summary().find(cause), std::string::npos) << report.summary();
  EXPECT_EQ(report.summary().find("nondeterminism"), std::string::npos) << report.summary();
  EXPECT_NE(rr.err.find("a path on the command line"), std::string::npos) << rr.err;
  const auto* d = find_field(report, "data.files[argv[1]].files");
  ASSERT_NE(d, nullptr) << rr.out;
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(d->explanation(), data.string() +
                                  ": 2 files added, 1 changed (added: extra/more.bin, extra/notes.txt; changed: "
                                  "train-labels-idx1-ubyte.gz)");

  const auto compared = run_repro({"compare", a, report.run_b(), "--json"}, env);
  EXPECT_EQ(compared.exit_code, 1) << compared.err;
  const auto c = parse_report(compared);
  EXPECT_EQ(c.verdict(), proto::DIVERGED);
  EXPECT_NE(c.summary().find(cause), std::string::npos) << c.summary();
  const auto text = run_repro({"compare", a, report.run_b(), "--no-color"}, env);
  EXPECT_NE(text.out.find("2 files added, 1 changed"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("nondeterminism"), std::string::npos) << text.out;
}

// (a), second half: the same directory given to track_data refuses the rerun (exit 2, naming
// it and the counts); --allow-data-change runs it and the report names the change.
TEST(DataScenarioTest, TrackedDirectoryChangeRefusesTheRerun) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  copy_dataset(data);
  const std::map<std::string, std::string> env = {{"REPRO_DIGEST_CACHE", dir / "cache"}};
  const std::string runs = dir / "runs";
  const auto made = run_process({REPRO_TRACK_TRAINER, data.string(), runs, "train-data"}, env);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string a = testing::last_line(made.out);
  const RunData original = read_run(a);
  // argv[1] was taken over by track_data; argv[2] is the runs directory, never data.
  ASSERT_EQ(original.header.data().files_size(), 1);
  const auto& tracked = original.header.data().files(0);
  EXPECT_EQ(tracked.role(), "train-data");
  EXPECT_EQ(tracked.tracked_by(), proto::TRACKED_BY_SESSION);
  EXPECT_EQ(tracked.manifest(), "data/train-data.manifest.pb");
  EXPECT_FALSE(fs::exists(a + "/data/argv-1.manifest.pb"));

  change_dataset(data);
  const auto refused = run_repro({"rerun", a, "--json"}, env);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  const auto report = parse_report(refused);
  EXPECT_EQ(report.verdict(), proto::INCOMPARABLE);
  EXPECT_EQ(report.summary(), "refused: " + data.string() +
                                  ": 2 files added, 1 changed (added: extra/more.bin, extra/notes.txt; changed: "
                                  "train-labels-idx1-ubyte.gz) since the run (--allow-data-change runs anyway)");
  EXPECT_EQ(run_dirs(runs).size(), 1u) << "refused before running";
  const auto text = run_repro({"rerun", a, "--no-color"}, env);
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_NE(text.out.find(data.string() + ": 2 files added, 1 changed"), std::string::npos) << text.out;

  const auto allowed = run_repro({"rerun", a, "--json", "--allow-data-change"}, env);
  EXPECT_EQ(allowed.exit_code, 1) << allowed.err;
  const auto ran = parse_report(allowed);
  EXPECT_EQ(run_dirs(runs).size(), 2u);
  EXPECT_EQ(ran.verdict(), proto::DIVERGED);
  const auto* d = find_field(ran, "data.files[train-data].files");
  ASSERT_NE(d, nullptr) << allowed.out;
  EXPECT_NE(d->explanation().find(data.string() + ": 2 files added, 1 changed"), std::string::npos) << d->explanation();
  EXPECT_NE(ran.summary().find("2 files added, 1 changed"), std::string::npos) << ran.summary();
}

// The nightly check of the wrapped example itself: a suite entry that names the command
// (mnist_repro with its data directory on its command line) passes twice, baseline first; after
// the data change the baseline comparison fails and its JUnit failure names the directory and
// the counts.
TEST(DataScenarioTest, CheckSuiteOfTheWrappedExampleFailsNamingTheDataChange) {
  testing::TempDir dir;
  const fs::path data = dir.path() / "data";
  copy_dataset(data);
  const std::map<std::string, std::string> env = {{"REPRO_DIGEST_CACHE", dir / "cache"}};
  testing::write_file(dir / "suite.textproto", std::string("entry { name: \"mnist\" command: \"") + REPRO_MNIST_REPRO +
                                                   "\" command: \"" + data.string() +
                                                   "\" command: \"6\" command: \"256\" runs: 2 }\n");
  const auto check = [&](const std::string& n, bool update) {
    std::vector<std::string> args = {"check",   dir / "suite.textproto", "--baseline", dir / "baselines",
                                     "--junit", dir / (n + ".xml"),      "--report",   dir / ("r" + n)};
    if (update) args.push_back("--update-baseline");
    return run_repro(args, env);
  };
  const auto first = check("1", true);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  ASSERT_TRUE(fs::exists(dir / "baselines/mnist/record.pb"));
  const RunData baseline = read_run(dir / "baselines/mnist");
  ASSERT_NE(find_role(baseline.header, "argv[1]"), nullptr);
  EXPECT_EQ(baseline.header.launcher(), "repro check");
  const auto second = check("2", false);
  EXPECT_EQ(second.exit_code, 0) << second.out << second.err;
  const std::string passed = testing::read_file(dir / "2.xml");
  EXPECT_NE(passed.find("name=\"run 1 vs baseline\""), std::string::npos) << passed;
  EXPECT_EQ(passed.find("<failure"), std::string::npos) << passed;

  change_dataset(data);
  const auto third = check("3", false);
  EXPECT_EQ(third.exit_code, 1) << third.out << third.err;
  const std::string failed = testing::read_file(dir / "3.xml");
  EXPECT_NE(failed.find("<failure"), std::string::npos) << failed;
  EXPECT_NE(failed.find("data.files[argv[1]].files"), std::string::npos) << failed;
  EXPECT_NE(failed.find(data.string() + ": 2 files added, 1 changed"), std::string::npos) << failed;
  EXPECT_EQ(failed.find("nondeterminism"), std::string::npos) << failed;
}

}  // namespace
}  // namespace repro
