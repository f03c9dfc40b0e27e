// run/record_text.h: text a record could not read back is found by its field, or escaped.
#include "run/record_text.h"

#include <gtest/gtest.h>

#include "proto/run_record.pb.h"
#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

TEST(RecordTextTest, TheFirstFieldThatIsNotUtf8IsNamed) {
  proto::RunRecord h;
  h.set_run_id("r");
  h.add_argv("train");
  EXPECT_FALSE(internal::first_invalid_text(h).has_value());
  h.add_argv("data/\xff.csv");
  auto bad = internal::first_invalid_text(h);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field, "argv[1]");
  EXPECT_EQ(bad->value, "data/\\xff.csv");

  proto::RunRecord p;
  (*p.mutable_config()->mutable_params())["lr"] = "0.1\xfe";
  bad = internal::first_invalid_text(p);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field, "config.params[lr]");

  proto::RunRecord d;
  d.mutable_config()->mutable_data()->set_source("csv");
  d.mutable_config()->mutable_data()->set_path("/data/\xe9t\xe9");
  EXPECT_EQ(testing::error_message([&] { internal::require_valid_text(d, "run record"); }),
            "run record: config.data.path is not valid UTF-8 (\"/data/\\xe9t\\xe9\"); a run record keeps its "
            "text as UTF-8: use a name, path or value in UTF-8");
  EXPECT_EQ(testing::thrown_error([&] { internal::require_valid_text(d, "x"); }).kind(), ErrorKind::kUsage);
}

TEST(RecordTextTest, EscapedTextReadsBack) {
  proto::RunRecord h;
  h.mutable_environment()->mutable_os()->set_hostname("host\xff");
  (*h.mutable_environment()->mutable_numerics_env())["OMP_X"] = "\xc3\xa9\xfe";
  ASSERT_TRUE(internal::first_invalid_text(h).has_value());
  internal::escape_invalid_text(&h);
  EXPECT_FALSE(internal::first_invalid_text(h).has_value());
  EXPECT_EQ(h.environment().os().hostname(), "host\\xff");
  EXPECT_EQ(h.environment().numerics_env().at("OMP_X"), "\xc3\xa9\\xfe");
  proto::RunRecord back;
  ASSERT_TRUE(back.ParseFromString(h.SerializeAsString()));
  EXPECT_EQ(back.environment().os().hostname(), "host\\xff");
}

}  // namespace
}  // namespace repro
