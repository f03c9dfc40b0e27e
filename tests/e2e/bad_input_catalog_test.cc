// The bad-input catalog (issue 17) as a test: every row of bad_input_catalog_*.cc through the
// real `repro` binary in a fresh process; see bad_input_catalog.h for what a row says.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "bad_input_catalog.h"
#include "repro/error.h"
#include "repro/record.h"
#include "testutil.h"
#include "util/env_names.h"

namespace repro::catalog {

Prepared* prepared = nullptr;

namespace {

namespace fs = std::filesystem;

testing::TempDir* prepared_dir = nullptr;

const std::vector<Case>& catalog() {
  static const std::vector<Case> kCatalog = [] {
    std::vector<Case> all = file_cases();
    for (auto& c : content_cases()) all.push_back(std::move(c));
    return all;
  }();
  return kCatalog;
}

std::set<std::string> entries_of(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) names.insert(e.path().filename().string());
  return names;
}

std::string replace_tmp(std::string text, const std::string& tmp) {
  for (auto pos = text.find("TMP"); pos != std::string::npos; pos = text.find("TMP", pos + tmp.size())) {
    text.replace(pos, 3, tmp);
  }
  return text;
}

testing::BoundedResult run_in(const Scene& s, const Args& args, double timeout_s) {
  testing::BoundedRun spec;
  spec.argv = {testing::repro_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = s.env;
  spec.env.emplace(internal::kEnvLogLevel, "warn");  // progress lines are not error lines
  spec.env.emplace(internal::kEnvDigestCache, "off");
  spec.cwd = s.tmp.string();
  spec.stdout_path = s.stdout_path;
  spec.timeout_s = timeout_s;
  return testing::run_bounded(spec);
}

class BadInputCatalogTest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    prepared_dir = new testing::TempDir;
    prepared = new Prepared;
    Scene s{prepared_dir->path(), (*prepared_dir) / "runs"};
    const Args base{"run", "--config", s.config(), "--set", "train.checkpoint_every=50", "--runs-dir"};
    Args finished = base;
    finished.push_back(*prepared_dir / "finished");
    const auto ok = run_in(s, finished, 300);
    ASSERT_EQ(ok.exit_code, 0) << ok.err;
    prepared->finished = testing::last_line(ok.out);
    s.env[internal::kEnvFaultEnospc] = "ckpt-00000150";
    Args failed = base;
    failed.push_back(*prepared_dir / "failed");
    const auto bad = run_in(s, failed, 300);
    ASSERT_EQ(bad.exit_code, kExitIo) << bad.err;
    const auto runs = list_runs(*prepared_dir / "failed");
    ASSERT_EQ(runs.size(), 1u);
    prepared->failed = runs[0];
  }
  static void TearDownTestSuite() {
    delete prepared;
    delete prepared_dir;
    prepared = nullptr;
    prepared_dir = nullptr;
  }
};

TEST_P(BadInputCatalogTest, ExitsWithOneLineAndLeavesNoRun) {
  ASSERT_NE(prepared, nullptr);
  ASSERT_FALSE(prepared->finished.empty());
  ASSERT_FALSE(prepared->failed.empty());
  const Case& c = GetParam();
  testing::TempDir tmp;
  Scene s{tmp.path(), tmp / "runs"};
  fs::create_directories(s.runs);
  const auto args = c.setup(s);
  if (!args) GTEST_SKIP() << "this machine cannot set up " << c.name;
  const auto before = entries_of(s.runs);
  const auto r = run_in(s, *args, 120);
  SCOPED_TRACE(std::string("family ") + c.family + ": repro " + ::testing::PrintToString(*args));
  ASSERT_FALSE(r.timed_out) << "hung";
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1u) << r.err;
  EXPECT_NE(lines[0].find(replace_tmp(c.stderr_fragment, tmp.path().string())), std::string::npos) << lines[0];
  if (c.exit_code != 0) {
    EXPECT_EQ(r.out, "") << "a failed command prints no result";
  }
  const auto after = entries_of(s.runs);
  if (c.new_run_dir) {
    EXPECT_EQ(after.size(), before.size() + 1) << "expected one run directory";
  } else {
    EXPECT_EQ(after, before) << "the runs directory changed";
  }
  if (c.verify) c.verify(s, r);
}

INSTANTIATE_TEST_SUITE_P(Catalog, BadInputCatalogTest, ::testing::ValuesIn(catalog()),
                         [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(BadInputCatalogSizeTest, HasAtLeastEightyCasesOverElevenFamilies) {
  std::set<std::string> families;
  std::set<std::string> names;
  for (const auto& c : catalog()) {
    families.insert(c.family);
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate case " << c.name;
  }
  EXPECT_GE(catalog().size(), 80u);
  EXPECT_EQ(families.size(), 11u);
}

}  // namespace
}  // namespace repro::catalog
