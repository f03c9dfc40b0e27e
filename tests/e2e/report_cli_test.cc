// `repro report` from the command line, and the site `repro check` and `repro sweep` write into
// their report directories. The pages in a browser: report_browser_test.cc.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::config_path;
using testing::last_line;
using testing::run_repro;

std::string run_mlp(const std::string& runs, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"run", "--config", config_path("mlp_synthetic.textproto"), "--runs-dir", runs};
  for (const auto& s : sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  const auto r = run_repro(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

std::vector<std::string> strings(const google::protobuf::Value& list) {
  std::vector<std::string> out;
  for (const auto& v : list.list_value().values()) out.push_back(v.string_value());
  return out;
}

TEST(ReportCliTest, TwoRunsGiveIndexRunPagesAndTheirComparisonAsJson) {
  testing::TempDir dir;
  const std::string a = run_mlp(dir / "runs", {"train.steps=20"});
  const std::string b = run_mlp(dir / "runs", {"train.steps=20", "optimizer.lr=0.05"});
  const std::string ida = read_run(a).header.run_id(), idb = read_run(b).header.run_id();
  const auto r = run_repro({"report", a, b, "--out", dir / "site", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &json).ok()) << r.out;
  EXPECT_EQ(json.fields().at("out_dir").string_value(), dir / "site");
  const std::string compare = "compare-" + ida + "-" + idb + ".html";
  EXPECT_EQ(strings(json.fields().at("pages")),
            (std::vector<std::string>{"index.html", "run-" + ida + ".html", "run-" + idb + ".html", compare}));
  EXPECT_EQ(strings(json.fields().at("comparisons")), std::vector<std::string>{compare});
  const std::string page = testing::read_file(dir / ("site/" + compare));
  EXPECT_NE(page.find("verdict-diverged\">diverged</span>"), std::string::npos);
  EXPECT_NE(page.find("<strong id=\"first-divergent-step\">1</strong>"), std::string::npos);
  EXPECT_NE(page.find("data-field=\"config.optimizer.lr\""), std::string::npos) << "the named cause";
}

TEST(ReportCliTest, BadInputExitsTwoWithOneLineNamingIt) {
  testing::TempDir dir;
  auto expect_error = [](const testing::ProcessResult& r, const std::string& message) {
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.err, "repro: " + message + "\n");
    EXPECT_EQ(r.out, "");
  };
  expect_error(run_repro({"report", "--out", dir / "site"}),
               "repro report: needs run directories or runs directories (see 'repro report --help')");
  expect_error(run_repro({"report", dir.path().string()}), "repro report: --out DIR is required");
  expect_error(run_repro({"report", dir / "nope", "--out", dir / "site"}),
               dir / "nope" + ": no such run directory or runs directory");
  EXPECT_FALSE(fs::exists(dir / "site"));
}

// `repro check --report DIR`: the site beside summary.md, with the page of each comparison.
TEST(ReportCliTest, CheckWritesTheSiteInItsReportDirectory) {
  testing::TempDir dir;
  const auto r = run_repro({"check", config_path("mlp_synthetic.textproto"), "--runs", "2", "--report", dir / "report",
                            "--junit", dir / "out.xml"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string run1 = read_run(dir / "report/runs/mlp_synthetic/run-1").header.run_id();
  const std::string run2 = read_run(dir / "report/runs/mlp_synthetic/run-2").header.run_id();
  // Each run has its own id, not its directory's name (every entry has a run-1).
  EXPECT_NE(run1, run2);
  EXPECT_EQ(run1.find("run-1"), std::string::npos) << run1;
  ASSERT_TRUE(fs::exists(dir / "report/site/index.html"));
  // The comparison check made ("run 2 vs run 1", run 1 the reference).
  const std::string page = dir / ("report/site/compare-" + run1 + "-" + run2 + ".html");
  ASSERT_TRUE(fs::exists(page));
  EXPECT_NE(testing::read_file(page).find("verdict-identical\">identical</span>"), std::string::npos);
  EXPECT_NE(testing::read_file(dir / "report/summary.md").find("HTML report: [site/index.html](site/index.html)"),
            std::string::npos);
  EXPECT_NE(testing::read_file(dir / "report/site/index.html").find("<title>repro check: passed</title>"),
            std::string::npos);
}

TEST(ReportCliTest, SweepWritesTheSiteInItsReportDirectory) {
  testing::TempDir dir;
  const auto r = run_repro({"sweep", "--config", config_path("mlp_synthetic.textproto"), "--set", "train.steps=20",
                            "--seeds", "2", "--report", dir / "sweep"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string index = testing::read_file(dir / "sweep/site/index.html");
  int rows = 0;
  for (std::size_t p = index.find("<tr data-run="); p != std::string::npos; p = index.find("<tr data-run=", p + 1))
    ++rows;
  EXPECT_EQ(rows, 2);
  EXPECT_NE(index.find("<title>repro sweep</title>"), std::string::npos);
}

}  // namespace
}  // namespace repro
