// header_differences for a program's hyperparameters and command line (compare/compare_params.cc).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "repro/compare.h"

namespace repro {
namespace {

proto::Param param(const std::string& name, const std::string& def, const std::string& value, proto::ParamSource source,
                   const std::string& type = "double") {
  proto::Param p;
  p.set_name(name);
  p.set_type(type);
  p.set_default_value(def);
  p.set_value(value);
  p.set_source(source);
  return p;
}

proto::RunRecord program_run(const std::vector<std::string>& argv) {
  proto::RunRecord r;
  r.set_origin("session");
  for (const auto& a : argv) r.add_argv(a);
  return r;
}

const proto::Difference* find_field(const std::vector<proto::Difference>& diffs, const std::string& field) {
  for (const auto& d : diffs) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

TEST(CompareParamsTest, AnOverriddenValueIsNamedWithItsSource) {
  proto::RunRecord a = program_run({"./train"}), b = a;
  *a.add_params() = param("lr", "0.05", "0.05", proto::PARAM_SOURCE_DEFAULT);
  *b.add_params() = param("lr", "0.05", "0.01", proto::PARAM_SOURCE_OVERRIDE);
  b.add_overrides("params.lr=0.01");
  (*b.mutable_config()->mutable_params())["lr"] = "0.01";
  const auto diffs = header_differences(a, b);
  const auto* d = find_field(diffs, "params.lr");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->category(), "params");
  EXPECT_EQ(d->a(), "0.05");
  EXPECT_EQ(d->b(), "0.01");
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(d->explanation(), "params.lr 0.05 vs 0.01 (B: override)");
  const auto* source = find_field(diffs, "params.lr.source");
  ASSERT_NE(source, nullptr);
  EXPECT_FALSE(source->affects_numerics());
  EXPECT_EQ(find_field(diffs, "params.lr.default"), nullptr);
  EXPECT_EQ(find_field(diffs, "config.params"), nullptr);  // the map is not compared as "[{...}]"
  EXPECT_EQ(find_field(diffs, "config.params.lr"), nullptr);
  ASSERT_FALSE(diffs.empty());
  EXPECT_EQ(diffs.front().field(), "params.lr");
}

TEST(CompareParamsTest, AChangedDefaultInUseIsNumericsRelevant) {
  proto::RunRecord a = program_run({"./train"}), b = a;
  *a.add_params() = param("lr", "0.05", "0.05", proto::PARAM_SOURCE_DEFAULT);
  *b.add_params() = param("lr", "0.02", "0.02", proto::PARAM_SOURCE_DEFAULT);
  const auto diffs = header_differences(a, b);
  const auto* value = find_field(diffs, "params.lr");
  const auto* def = find_field(diffs, "params.lr.default");
  ASSERT_NE(value, nullptr);
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(value->explanation(), "params.lr 0.05 vs 0.02");
  EXPECT_TRUE(def->affects_numerics());
  EXPECT_EQ(def->explanation(), "params.lr.default 0.05 vs 0.02: the default in the program's code changed");
  // Overridden to the same value in both runs, a changed default changes nothing.
  a.mutable_params(0)->set_value("0.01");
  a.mutable_params(0)->set_source(proto::PARAM_SOURCE_OVERRIDE);
  b.mutable_params(0)->set_value("0.01");
  b.mutable_params(0)->set_source(proto::PARAM_SOURCE_OVERRIDE);
  const auto same = header_differences(a, b);
  EXPECT_EQ(find_field(same, "params.lr"), nullptr);
  ASSERT_NE(find_field(same, "params.lr.default"), nullptr);
  EXPECT_FALSE(find_field(same, "params.lr.default")->affects_numerics());
}

TEST(CompareParamsTest, TypeAndOneSidedParamsAndUnaskedConfigParams) {
  proto::RunRecord a = program_run({"./train"}), b = a;
  *a.add_params() = param("n", "2", "2", proto::PARAM_SOURCE_DEFAULT, "int");
  *b.add_params() = param("n", "2", "2", proto::PARAM_SOURCE_DEFAULT, "double");
  *b.add_params() = param("mode", "fast", "slow", proto::PARAM_SOURCE_CONFIG, "string");
  (*a.mutable_config()->mutable_params())["unused"] = "1";
  const auto diffs = header_differences(a, b);
  ASSERT_NE(find_field(diffs, "params.n.type"), nullptr);
  EXPECT_TRUE(find_field(diffs, "params.n.type")->affects_numerics());
  const auto* mode = find_field(diffs, "params.mode");
  ASSERT_NE(mode, nullptr);
  EXPECT_EQ(mode->explanation(), "params.mode (none) vs slow: asked for by run B only (config)");
  EXPECT_TRUE(mode->affects_numerics());
  const auto* unused = find_field(diffs, "config.params.unused");
  ASSERT_NE(unused, nullptr);
  EXPECT_FALSE(unused->affects_numerics());
  EXPECT_EQ(unused->a(), "1");
  EXPECT_EQ(unused->b(), "");
}

TEST(CompareParamsTest, ArgvOfProgramsElementByElementExceptTheExecutable) {
  const proto::RunRecord a = program_run({"/build/a/train", "data", "40"});
  const proto::RunRecord b = program_run({"/build/b/train", "data", "50", "--fast"});
  const auto diffs = header_differences(a, b);
  EXPECT_EQ(find_field(diffs, "argv[0]"), nullptr);
  EXPECT_EQ(find_field(diffs, "argv[1]"), nullptr);
  const auto* two = find_field(diffs, "argv[2]");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->category(), "argv");
  EXPECT_TRUE(two->affects_numerics());
  EXPECT_EQ(two->explanation(), "argv[2] 40 vs 50: another command-line setting");
  const auto* three = find_field(diffs, "argv[3]");
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->a(), "");
  EXPECT_EQ(three->b(), "--fast");
  EXPECT_EQ(three->explanation(), "argv[3] (none) vs --fast: an argument only one run was given");
}

TEST(CompareParamsTest, ArgvOfBuiltInRunsIsNotCompared) {
  proto::RunRecord a = program_run({"repro", "run", "--config", "/tmp/a.textproto"});
  proto::RunRecord b = program_run({"repro", "run", "--config", "/tmp/b.textproto"});
  a.set_origin("repro run");
  b.set_origin("repro run");
  EXPECT_EQ(find_field(header_differences(a, b), "argv[3]"), nullptr);
  b.set_origin("session");  // one of each: nothing to compare element by element
  EXPECT_EQ(find_field(header_differences(a, b), "argv[3]"), nullptr);
}

}  // namespace
}  // namespace repro
