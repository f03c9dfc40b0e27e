#include "util/strings.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "proto/run_record.pb.h"
#include "repro/error.h"

namespace repro::internal {
namespace {

using Parts = std::vector<std::string>;

TEST(StringsTest, JoinPutsTheSeparatorBetweenEveryTwoParts) {
  EXPECT_EQ(join(Parts{}, ", "), "");
  EXPECT_EQ(join(Parts{"a"}, ", "), "a");
  EXPECT_EQ(join(Parts{"a", "b", "c"}, ", "), "a, b, c");
  // Empty parts keep their separators, at the ends too.
  EXPECT_EQ(join(Parts{"", "a", ""}, ","), ",a,");
  EXPECT_EQ(join(Parts{"", ""}, ";"), ";");
  EXPECT_EQ(join(Parts{"a", "b"}, ""), "ab");
}

TEST(StringsTest, JoinTakesAProtobufRepeatedField) {
  proto::RunRecord header;
  header.add_argv("repro");
  header.add_argv("run");
  header.add_argv("--config=a b");
  EXPECT_EQ(join(header.argv(), " "), "repro run --config=a b");
}

TEST(StringsTest, SplitKeepsEmptyFields) {
  EXPECT_EQ(split("", ','), Parts{""});
  EXPECT_EQ(split("a", ','), Parts{"a"});
  EXPECT_EQ(split("a,b", ','), (Parts{"a", "b"}));
  EXPECT_EQ(split("a,,b", ','), (Parts{"a", "", "b"}));
  EXPECT_EQ(split(",a,", ','), (Parts{"", "a", ""}));
  EXPECT_EQ(split(",", ','), (Parts{"", ""}));
  EXPECT_EQ(split("a b;c", ';'), (Parts{"a b", "c"}));
  for (const std::string text : {"", ",", "a,,b", ",x,y,"}) EXPECT_EQ(join(split(text, ','), ","), text);
}

TEST(StringsTest, SplitWordsDropsEveryRunOfWhitespace) {
  EXPECT_EQ(split_words(""), Parts{});
  EXPECT_EQ(split_words(" \t\r\n"), Parts{});
  EXPECT_EQ(split_words("a"), Parts{"a"});
  EXPECT_EQ(split_words("  fpu\tsse2  avx512f\n"), (Parts{"fpu", "sse2", "avx512f"}));
}

TEST(StringsTest, TrimRemovesWhitespaceAtBothEnds) {
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim("a"), "a");
  EXPECT_EQ(trim(" \ta b\r\n"), "a b");
  EXPECT_EQ(trim("/repo\nabc123\n"), "/repo\nabc123");  // inner newlines stay
}

TEST(StringsTest, EscapeMarkupServesHtmlAndXml) {
  EXPECT_EQ(escape_markup("<a b=\"c\">'&</a>"), "&lt;a b=&quot;c&quot;&gt;&#39;&amp;&lt;/a&gt;");
  EXPECT_EQ(escape_markup("x\x01y\n\tz"), "xy\n\tz");  // XML 1.0 forbids \x01 even escaped
}

TEST(StringsTest, Utf8IsCheckedAsProtobufReadsIt) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é, €, an emoji
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("caf\xe9"));           // Latin-1
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong, 3 bytes
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
  EXPECT_EQ(first_invalid_utf8("ab\xc3\xa9\xffz"), 4u);
  EXPECT_EQ(first_invalid_utf8("abc"), std::string_view::npos);
  EXPECT_EQ(escape_invalid_utf8("caf\xe9/\xc3\xa9\xff"), "caf\\xe9/\xc3\xa9\\xff");
  EXPECT_EQ(escape_invalid_utf8("plain"), "plain");
}

// A binary file's bytes quoted in a message: nothing that breaks the line or drives a terminal.
TEST(StringsTest, PrintableEscapesControlBytesAndInvalidUtf8AndCuts) {
  EXPECT_EQ(printable(std::string("\x1b[2J\x00 \x7f\r\ncaf\xc3\xa9\xff", 15)),
            "\\x1b[2J\\x00 \\x7f\\x0d\\x0acaf\xc3\xa9\\xff");
  EXPECT_EQ(printable("plain text, tabs\tare control"), "plain text, tabs\\x09are control");
  EXPECT_EQ(printable(std::string(100, 'a'), 4), "aaaa...");
  EXPECT_EQ(printable("caf\xc3\xa9", 4), "caf\\xc3...") << "a sequence cut in two is escaped";
}

// A setting from the environment: one rule for every integer variable, and one message.
TEST(StringsTest, IntegerSettingTakesOnlyADecimalIntegerInRange) {
  EXPECT_EQ(integer_setting("RANK", "1", 0, 1), 1);
  EXPECT_EQ(integer_setting("STEP", "9223372036854775807", 0, LLONG_MAX), LLONG_MAX);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "RANK: '' is not an integer in 0..1"},
      {"2", "RANK: '2' is not an integer in 0..1"},
      {"-1", "RANK: '-1' is not an integer in 0..1"},
      {"1x", "RANK: '1x' is not an integer in 0..1"},
      {"99999999999999999999", "RANK: '99999999999999999999' is not an integer in 0..1"},
      {"1\n", "RANK: '1\\x0a' is not an integer in 0..1"},
      {" 1", "RANK: ' 1' is not an integer in 0..1"},
  };
  for (const auto& [text, message] : bad) {
    try {
      integer_setting("RANK", text.c_str(), 0, 1);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
  try {
    integer_setting("STEP", "-3", 0, LLONG_MAX);
    ADD_FAILURE() << "accepted -3";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "STEP: '-3' is not an integer >= 0");
  }
}

// Seconds, from a flag or a variable: one range rule and one message for both.
TEST(StringsTest, SecondsSettingTakesOnlyAPositiveNumberUpToTheLimit) {
  EXPECT_EQ(seconds_setting("T", "0.5", 10), 0.5);
  EXPECT_EQ(seconds_setting("T", "10", 10), 10);
  EXPECT_EQ(checked_seconds("--t", 3, 10), 3);
  for (const std::string text : {"", "0", "-1", "10.5", "nan", "inf", "1s", " 1"}) {
    try {
      seconds_setting("T", text.c_str(), 10);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUsage);
      EXPECT_EQ(std::string(e.what()), "T: '" + text + "' is not a number of seconds in (0, 10]");
    }
  }
  for (const double s : {0.0, -0.5, 10.25, std::nan("")}) {
    try {
      checked_seconds("--t", s, 10);
      ADD_FAILURE() << "accepted " << s;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--t: '", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("' is not a number of seconds in (0, 10]"), std::string::npos);
    }
  }
}

// The harness's own switches for the processes it starts are "1"; nothing else turns one on.
TEST(StringsTest, EnvFlagIsOnlyOne) {
  const char* name = "REPRO_STRINGS_TEST_FLAG";
  ::unsetenv(name);
  EXPECT_FALSE(env_flag(name));
  for (const char* off : {"", "0", "true", "11"}) {
    ::setenv(name, off, 1);
    EXPECT_FALSE(env_flag(name)) << off;
  }
  ::setenv(name, "1", 1);
  EXPECT_TRUE(env_flag(name));
  ::unsetenv(name);
}

}  // namespace
}  // namespace repro::internal
