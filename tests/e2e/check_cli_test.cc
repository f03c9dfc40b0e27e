// `repro check`, the nightly mode: fresh-process runs, baselines, JUnit XML, report directory.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "proto/check.pb.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

using testing::config_path;

// JUnit XML must parse as XML: checked with Debian's Python, which every machine with the
// locked packages has (python3-matplotlib depends on it).
void expect_valid_xml(const std::string& path) {
  const auto r = testing::run_process({"/usr/bin/python3", "-c",
                                       "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
                                       "assert r.tag == 'testsuites', r.tag; print(len(r.findall('.//testcase')))",
                                       path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

std::string suite_with(const testing::TempDir& dir, const std::string& sets) {
  const std::string path = dir / "suite.textproto";
  testing::write_file(path, "entry { name: \"mlp\" config: \"" + config_path("mlp_synthetic.textproto") +
                                "\" set: \"train.steps=30\" " + sets + " }\n");
  return path;
}

TEST(CheckCliTest, ThreeRunsOfOneConfigPassWithValidJunit) {
  testing::TempDir dir;
  const auto r = run_repro({"check", config_path("mlp_synthetic.textproto"), "--runs", "3", "-j", "2", "--junit",
                            dir / "out.xml", "--report", dir / "report"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_valid_xml(dir / "out.xml");
  const std::string xml = testing::read_file(dir / "out.xml");
  EXPECT_NE(xml.find("name=\"run 2 vs run 1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"run 3 vs run 1\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
  EXPECT_TRUE(fs::exists(dir / "report/summary.md"));
  EXPECT_TRUE(fs::exists(dir / "report/mlp_synthetic/run-2-vs-run-1.json"));
}

TEST(CheckCliTest, BaselineUnderAnotherLearningRateFailsWithTheExplanation) {
  testing::TempDir dir;
  const auto store = run_repro({"check", suite_with(dir, "set: \"optimizer.lr=0.05\""), "--runs", "1", "--baseline",
                                dir / "baselines", "--update-baseline", "--report", dir / "r1"});
  ASSERT_EQ(store.exit_code, 0) << store.out << store.err;
  ASSERT_TRUE(fs::exists(dir / "baselines/mlp/record.pb"));

  const auto r = run_repro({"check", suite_with(dir, ""), "--runs", "2", "--baseline", dir / "baselines", "--junit",
                            dir / "out.xml", "--report", dir / "r2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  expect_valid_xml(dir / "out.xml");
  const std::string xml = testing::read_file(dir / "out.xml");
  EXPECT_NE(xml.find("<failure"), std::string::npos) << xml;
  EXPECT_NE(xml.find("optimizer.lr"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"run 1 vs baseline\""), std::string::npos);
}

TEST(CheckCliTest, BaselineUnderAnotherThreadCountListsTheDifferenceWhateverTheVerdict) {
  testing::TempDir dir;
  ASSERT_EQ(run_repro({"check", suite_with(dir, "set: \"determinism.intra_op_threads=2\""), "--runs", "1", "--baseline",
                       dir / "baselines", "--update-baseline", "--report", dir / "r1"})
                .exit_code,
            0);
  const auto r = run_repro({"check", suite_with(dir, ""), "--runs", "1", "--baseline", dir / "baselines", "--junit",
                            dir / "out.xml", "--report", dir / "r2"});
  const std::string xml = testing::read_file(dir / "out.xml");
  EXPECT_NE(xml.find("intra_op"), std::string::npos) << xml;
  EXPECT_NE(r.out.find("intra_op"), std::string::npos) << r.out;
}

// --json prints one CheckReport: the runs, the comparisons with their entry and name, the entry
// errors and the verdict; the same message is <report>/check.json.
TEST(CheckCliTest, JsonIsOneReportWithRunsComparisonsAndEntryErrors) {
  testing::TempDir dir;
  testing::write_file(dir / "suite.textproto", "entry { name: \"mlp\" config: \"" +
                                                   config_path("mlp_synthetic.textproto") +
                                                   "\" set: \"train.steps=10\" runs: 2 }\n"
                                                   "entry { name: \"silent\" command: \"/bin/true\" runs: 1 }\n");
  const auto r = run_repro({"check", dir / "suite.textproto", "--report", dir / "report", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  proto::CheckReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &report).ok()) << r.out;
  EXPECT_EQ(report.schema_version(), 1u);
  EXPECT_FALSE(report.passed());
  EXPECT_EQ(report.report_dir(), dir / "report");
  ASSERT_EQ(report.runs_size(), 3);
  EXPECT_EQ(report.runs(2).entry(), "silent");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(report.runs(i).entry(), "mlp");
    EXPECT_EQ(report.runs(i).index(), i + 1);
    EXPECT_EQ(report.runs(i).exit_code(), 0);
    EXPECT_EQ(report.runs(i).dir(), dir / ("report/runs/mlp/run-" + std::to_string(i + 1)));
    EXPECT_TRUE(fs::exists(report.runs(i).dir() + "/record.pb"));
  }
  ASSERT_EQ(report.comparisons_size(), 1);
  EXPECT_EQ(report.comparisons(0).entry(), "mlp");
  EXPECT_EQ(report.comparisons(0).name(), "run 2 vs run 1");
  EXPECT_EQ(report.comparisons(0).report().verdict(), proto::IDENTICAL);
  EXPECT_EQ(report.comparisons(0).report().steps_compared(), 10);
  ASSERT_EQ(report.errors_size(), 1);
  EXPECT_EQ(report.errors(0).rfind("silent: run 1 exited with 0 but recorded no run", 0), 0u) << report.errors(0);
  EXPECT_EQ(testing::read_file(dir / "report/check.json"), r.out);
}

// The verdict is coloured on a terminal only, and never with --no-color or NO_COLOR. The
// terminal is a pseudo-terminal from Debian's Python (pty.spawn copies what it shows to stdout).
TEST(CheckCliTest, VerdictIsColouredOnATerminalUnlessNoColor) {
  testing::TempDir dir;
  const std::string suite = suite_with(dir, "runs: 1");
  auto on_terminal = [&](const std::vector<std::string>& extra, const std::map<std::string, std::string>& env) {
    std::vector<std::string> argv = {"/usr/bin/python3",
                                     "-c",
                                     "import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)",
                                     testing::repro_binary(),
                                     "check",
                                     suite,
                                     "--report",
                                     dir / "report"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto r = testing::run_process(argv, env);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find(": 0 comparison(s), 0 envelope check(s), 0 error(s)"), std::string::npos) << r.out;
    return r.out;
  };
  EXPECT_NE(on_terminal({}, {{"NO_COLOR", "\x01unset"}}).find("\033[32mcheck passed\033[0m: "), std::string::npos);
  EXPECT_EQ(on_terminal({"--no-color"}, {{"NO_COLOR", "\x01unset"}}).find("\033[32mcheck"), std::string::npos);
  EXPECT_EQ(on_terminal({}, {{"NO_COLOR", "1"}}).find("\033[32mcheck"), std::string::npos);
  // Off a terminal: never.
  const auto piped = run_repro({"check", suite, "--report", dir / "report"}, {{"NO_COLOR", "\x01unset"}});
  EXPECT_EQ(piped.exit_code, 0);
  EXPECT_EQ(piped.out.find('\033'), std::string::npos) << piped.out;
}

TEST(CheckCliTest, BadInputExitsTwo) {
  testing::TempDir dir;
  EXPECT_EQ(run_repro({"check", dir / "missing.textproto"}).exit_code, 2);
  testing::write_file(dir / "bad.textproto", "entry { nonsense: 1 }\n");
  const auto r = run_repro({"check", dir / "bad.textproto", "--report", dir / "r"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_EQ(run_repro({"check", config_path("mlp_synthetic.textproto"), "--update-baseline"}).exit_code, 2);
}

}  // namespace
}  // namespace repro
