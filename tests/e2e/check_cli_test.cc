// `repro check`, the nightly mode: fresh-process runs, baselines, JUnit XML, report directory.
#include <gtest/gtest.h>

#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::run_repro;

using testing::config_path;

// JUnit XML must parse as XML: checked with Debian's Python, which every machine with the
// locked packages has (python3-matplotlib depends on it).
void expect_valid_xml(const std::string& path) {
  const auto r = testing::run_process(
      {"/usr/bin/python3", "-c", "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
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
  ASSERT_EQ(run_repro({"check", suite_with(dir, "set: \"determinism.intra_op_threads=2\""), "--runs", "1",
                       "--baseline", dir / "baselines", "--update-baseline", "--report", dir / "r1"})
                .exit_code,
            0);
  const auto r = run_repro({"check", suite_with(dir, ""), "--runs", "1", "--baseline", dir / "baselines", "--junit",
                            dir / "out.xml", "--report", dir / "r2"});
  const std::string xml = testing::read_file(dir / "out.xml");
  EXPECT_NE(xml.find("intra_op"), std::string::npos) << xml;
  EXPECT_NE(r.out.find("intra_op"), std::string::npos) << r.out;
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
