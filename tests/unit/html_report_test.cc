// The HTML report: the template engine and escaping, the curve downsampling, and the site
// written from real run directories (repro/html_report.h). The browser test is
// tests/e2e/report_browser_test.cc.
#include "repro/html_report.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "proto/trace.pb.h"
#include "report/html_templates.h"
#include "report/site.h"
#include "repro/error.h"
#include "repro/record.h"
#include "repro/trace.h"
#include "testutil.h"
#include "util/fileutil.h"

namespace repro::internal {
namespace {

using testing::TempDir;

// A finished run of `losses` (float32) named `id`, config `config_name`, started at `started`.
std::string write_run(const TempDir& tmp, const std::string& name, const std::string& id,
                      const std::string& config_name, const std::string& started, const std::vector<float>& losses) {
  proto::RunRecord h;
  h.set_run_id(id);
  h.set_started_at(started);
  h.set_status(proto::FINISHED);
  h.set_seed(7);
  h.mutable_config()->set_name(config_name);
  h.mutable_model()->set_name("mlp");
  h.mutable_determinism()->set_intra_op_threads(1);
  h.set_steps_completed(static_cast<std::int64_t>(losses.size()));
  const std::string dir = tmp / name;
  auto writer = RunWriter::create(dir, h);
  for (std::size_t i = 0; i < losses.size(); ++i) {
    proto::StepRecord s;
    s.set_step(static_cast<std::int64_t>(i));
    s.set_loss_f32(losses[i]);
    writer->append_step(s);
  }
  writer->flush();
  return dir;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(HtmlTemplatesTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape_html("<a href=\"x\">'&</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&lt;/a&gt;");
  EXPECT_EQ(escape_html(std::string("a\x01\x1b[31mb\n\tc")), "a[31mb\n\tc");
}

TEST(HtmlTemplatesTest, RenderEscapesTextAndInsertsOurMarkup) {
  Fields f;
  f.text("name", "<b>&").html("markup", Html{"<i>x</i>"});
  EXPECT_EQ(render("[{{name}}|{{markup}}|{{name}}]", f), "[&lt;b&gt;&amp;|<i>x</i>|&lt;b&gt;&amp;]");
  const Error missing = testing::thrown_error([&] { render("{{nope}}", f); });
  EXPECT_EQ(missing.kind(), ErrorKind::kInternal);
  EXPECT_EQ(std::string(missing.what()), "html template: no value for {{nope}}");
  EXPECT_EQ(std::string(testing::thrown_error([&] { render("a {{name", f); }).what()),
            "html template: '{{' without '}}'");
}

// 100,000 points become at most two per column, and the spike and the lowest point survive.
TEST(SiteCurvesTest, DownsampleKeepsEveryColumnsExtremes) {
  Points points;
  for (int i = 0; i < 100000; ++i) points.emplace_back(i, 1.0 + 0.5 * std::sin(i / 500.0));
  points[54321].second = 9.0;
  points[777].second = -3.0;
  const Points out = downsample(points, 0, 99999, 810);
  EXPECT_LE(out.size(), 1620u);
  EXPECT_GE(out.size(), 810u);
  bool spike = false, low = false;
  for (const auto& [x, y] : out) {
    spike |= (x == 54321 && y == 9.0);
    low |= (x == 777 && y == -3.0);
  }
  EXPECT_TRUE(spike);
  EXPECT_TRUE(low);
  for (std::size_t i = 1; i < out.size(); ++i) EXPECT_LT(out[i - 1].first, out[i].first) << i;
  // Non-finite values and points outside the range are dropped.
  EXPECT_EQ(downsample({{0, NAN}, {1, 2}, {5, 1}}, 0, 2, 10), (Points{{1, 2}}));
}

TEST(SiteFieldsTest, FlattenNamesNestedRepeatedAndMapFields) {
  proto::RunRecord h;
  h.set_run_id("r");
  h.add_argv("repro");
  h.add_argv("run");
  (*h.mutable_determinism()->mutable_variables_set())["OMP_NUM_THREADS"] = "1";
  (*h.mutable_determinism()->mutable_variables_set())["MKL_NUM_THREADS"] = "2";
  const auto rows = flatten(h);
  std::map<std::string, std::string> m(rows.begin(), rows.end());
  EXPECT_EQ(m.at("run_id"), "r");
  EXPECT_EQ(m.at("argv[1]"), "run");
  EXPECT_EQ(m.at("determinism.variables_set[MKL_NUM_THREADS]"), "2");
  EXPECT_EQ(m.at("status"), "RUN_STATUS_UNSPECIFIED");
  EXPECT_EQ(m.count("config.name"), 0u) << "an unset message is left out";
}

// A long list shows its first 16 items and one row for the rest, whose digest tells two apart.
TEST(SiteFieldsTest, LongListsAreSummarisedByADigestOfTheRest) {
  proto::RunRecord a;
  for (int i = 0; i < 30; ++i) a.add_argv("arg" + std::to_string(i));
  proto::RunRecord b = a;
  b.set_argv(29, "changed");
  const auto ra = flatten(a), rb = flatten(b);
  std::map<std::string, std::string> ma(ra.begin(), ra.end()), mb(rb.begin(), rb.end());
  EXPECT_EQ(ma.at("argv[15]"), "arg15");
  EXPECT_EQ(ma.count("argv[16]"), 0u);
  ASSERT_EQ(ma.count("argv[16..29]"), 1u);
  EXPECT_EQ(ma.at("argv[16..29]").rfind("14 more, XXH3 ", 0), 0u) << ma.at("argv[16..29]");
  EXPECT_NE(ma.at("argv[16..29]"), mb.at("argv[16..29]"));
  // Up to 20 items are all listed.
  proto::RunRecord c;
  for (int i = 0; i < 20; ++i) c.add_argv("x");
  const auto rc = flatten(c);
  const std::map<std::string, std::string> mc(rc.begin(), rc.end());
  EXPECT_EQ(mc.count("argv[19]"), 1u);
}

// Two runs of one config that part at step 3: the index, both run pages and their comparison,
// with every recorded string escaped and nothing that could reach the network.
TEST(HtmlReportTest, WritesIndexRunPagesAndTheComparisonOfConsecutiveRuns) {
  TempDir tmp;
  const std::vector<float> la = {1.0f, 0.75f, 0.5f, 0.25f, 0.125f};
  std::vector<float> lb = la;
  lb[3] = std::nextafter(lb[3], 1.0f);
  lb[4] = 0.2f;
  write_run(tmp, "runs/a", "run-a", "cfg <script>alert(1)</script>", "2026-01-01T00:00:00Z", la);
  write_run(tmp, "runs/b", "run-b\"><img src=x>", "cfg <script>alert(1)</script>", "2026-01-01T00:00:01Z", lb);
  const ReportSite site = write_report({tmp / "runs"}, tmp / "site");
  ASSERT_EQ(site.pages.size(), 4u);
  EXPECT_EQ(site.pages[0], "index.html");
  EXPECT_EQ(site.pages[1], "run-run-a.html");
  EXPECT_EQ(site.pages[2], "run-run-b___img_src_x_.html");
  EXPECT_EQ(site.pages[3], "compare-run-a-run-b___img_src_x_.html");
  EXPECT_EQ(site.run_ids, (std::vector<std::string>{"run-a", "run-b\"><img src=x>"}));

  const std::string compare = testing::read_file(tmp / ("site/" + site.pages[3]));
  EXPECT_NE(compare.find("<span id=\"verdict\" class=\"verdict verdict-diverged\">diverged</span>"), std::string::npos);
  EXPECT_NE(compare.find("<strong id=\"first-divergent-step\">3</strong>"), std::string::npos);
  // The exact bits of both losses at the first divergent step.
  EXPECT_NE(compare.find("0.25 (0x3e800000)"), std::string::npos);
  EXPECT_NE(compare.find("0.25000003 (0x3e800001)"), std::string::npos);
  // The header table: run_id and started_at differ; config.name is equal and marked so.
  EXPECT_NE(compare.find("data-field=\"run_id\" data-equal=\"0\""), std::string::npos);
  EXPECT_NE(compare.find("data-field=\"config.name\" data-equal=\"1\""), std::string::npos);
  EXPECT_NE(compare.find("id=\"only-differences-toggle\" data-table=\"header-diff\""), std::string::npos);

  for (const auto& name : site.pages) {
    const std::string html = testing::read_file(tmp / ("site/" + name));
    SCOPED_TRACE(name);
    EXPECT_EQ(html.find("<script>alert"), std::string::npos);
    EXPECT_EQ(html.find("<img src=x>"), std::string::npos);
    EXPECT_EQ(html.find("http:"), std::string::npos);
    EXPECT_EQ(html.find("https:"), std::string::npos);
    EXPECT_EQ(count(html, "<script>"), 1) << "only our own script";
    EXPECT_NE(html.find("content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                        "img-src data:\""),
              std::string::npos);
  }
  const std::string index = testing::read_file(tmp / "site/index.html");
  EXPECT_NE(index.find("cfg &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(count(index, "<input type=\"checkbox\" class=\"pick\""), 2);
  EXPECT_NE(index.find("data-a=\"run-a\" data-b=\"run-b&quot;&gt;&lt;img src=x&gt;\""), std::string::npos);
  // The final loss with its bits.
  EXPECT_NE(index.find("<td data-sort=\"0.125\">0.125</td><td><code>0x3e000000</code></td>"), std::string::npos);
  const std::string run = testing::read_file(tmp / "site/run-run-a.html");
  EXPECT_NE(run.find("<polyline class=\"line c0\""), std::string::npos);
  EXPECT_NE(run.find("0.125 (0x3e000000)"), std::string::npos);
}

TEST(HtmlReportTest, TwoRunDirectoriesAreComparedAndAllPairsComparesEveryPair) {
  TempDir tmp;
  const std::string a = write_run(tmp, "runs/a", "a", "one", "2026-01-01T00:00:00Z", {1.0f, 0.5f});
  const std::string b = write_run(tmp, "runs/b", "b", "two", "2026-01-01T00:00:01Z", {1.0f, 0.5f});
  write_run(tmp, "runs/c", "c", "three", "2026-01-01T00:00:02Z", {1.0f, 0.5f});
  EXPECT_EQ(write_report({tmp / "runs"}, tmp / "none").comparisons.size(), 0u) << "three configs: nothing automatic";
  const ReportSite two = write_report({b, a}, tmp / "two");
  ASSERT_EQ(two.comparisons, (std::vector<std::string>{"compare-b-a.html"}));
  const std::string page = testing::read_file(tmp / "two/compare-b-a.html");
  EXPECT_NE(page.find("verdict-identical\">identical</span>"), std::string::npos);
  EXPECT_NE(page.find("<strong id=\"first-divergent-step\">none</strong>"), std::string::npos);
  ReportOptions all;
  all.all_pairs = true;
  EXPECT_EQ(write_report({tmp / "runs"}, tmp / "all", all).comparisons.size(), 3u);
}

// A report that `repro trace` left for the pair is shown: the op, its inputs and outputs, the knob.
TEST(HtmlReportTest, ShowsTheTraceReportOfThePair) {
  TempDir tmp;
  const std::string a = write_run(tmp, "runs/a", "a", "cfg", "2026-01-01T00:00:00Z", {1.0f, 0.5f});
  const std::string b = write_run(tmp, "runs/b", "b", "cfg", "2026-01-01T00:00:01Z", {1.0f, 0.25f});
  proto::TraceReport t;
  t.set_verdict(proto::NONDETERMINISTIC_OP);
  t.set_summary("op 7 aten::addmm (forward) gave different outputs from identical inputs");
  t.mutable_op_a()->set_name("aten::addmm");
  t.mutable_op_b()->set_name("aten::addmm");
  t.mutable_op_a()->add_outputs()->set_digest("aaaa");
  t.mutable_op_b()->add_outputs()->set_digest("bbbb");
  t.add_differing_outputs(0);
  auto* k = t.add_knobs();
  k->set_setting("determinism.intra_op_threads");
  k->set_from("1");
  k->set_to("2");
  k->set_matches_b(true);
  t.set_knobs_summary("determinism.intra_op_threads flips the bits");
  EXPECT_EQ(trace_report_path(a, "b"), a + "/traces/report-b.pb");
  std::filesystem::create_directories(a + "/traces");
  write_file_atomic(trace_report_path(a, "b"), t.SerializeAsString());
  const ReportSite site = write_report({tmp / "runs"}, tmp / "site");
  ASSERT_EQ(site.comparisons.size(), 1u);
  const std::string page = testing::read_file(tmp / ("site/" + site.comparisons[0]));
  EXPECT_NE(page.find("<strong id=\"trace-op\">aten::addmm</strong>"), std::string::npos);
  EXPECT_NE(page.find("data-setting=\"determinism.intra_op_threads\" data-matches-b=\"1\""), std::string::npos);
  EXPECT_NE(page.find("<p id=\"knobs-summary\">determinism.intra_op_threads flips the bits</p>"), std::string::npos);
  EXPECT_NE(page.find("bbbb"), std::string::npos);
}

TEST(HtmlReportTest, BadInputsAreNamedAndNothingIsOpened) {
  TempDir tmp;
  const auto message = [](auto&& fn) { return testing::error_message(fn); };
  EXPECT_EQ(message([&] { write_report({}, tmp / "out"); }), "report: no run directories or runs directories given");
  EXPECT_EQ(message([&] { write_report({tmp / "missing"}, tmp / "out"); }),
            tmp / "missing" + ": no such run directory or runs directory");
  testing::write_file(tmp / "file", "x");
  EXPECT_EQ(message([&] { write_report({tmp / "file"}, tmp / "out"); }),
            tmp / "file" + ": not a directory (expected a run directory or runs directory)");
  ASSERT_EQ(mkfifo((tmp / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(message([&] { write_report({tmp / "fifo"}, tmp / "out"); }),
            tmp / "fifo" + ": not a directory (expected a run directory or runs directory)");
  write_run(tmp, "runs/a", "a", "cfg", "t", {1.0f});
  EXPECT_EQ(message([&] { write_report({tmp / "runs"}, tmp / "file"); }),
            tmp / "file" + ": exists and is not a directory");
  // A run directory given by name must read; in a runs directory a broken run is skipped.
  std::filesystem::create_directories(tmp / "runs/broken");
  testing::write_file(tmp / "runs/broken/record.pb", "not a record");
  EXPECT_EQ(write_report({tmp / "runs"}, tmp / "out").run_ids, (std::vector<std::string>{"a"}));
  const Error e = testing::thrown_error([&] { write_report({tmp / "runs/broken"}, tmp / "out2"); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  struct stat st {};
  EXPECT_NE(stat((tmp / "out2").c_str(), &st), 0) << "nothing written";
}

}  // namespace
}  // namespace repro::internal
