// Session::param (session/session_params.cc) and the launch variables a Session reads
// (session/launch_environment.cc): REPRO_SET, REPRO_SEED, REPRO_LAUNCHER.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "repro/error.h"
#include "repro/record.h"
#include "repro/session.h"
#include "session_testutil.h"
#include "testutil.h"

namespace repro {
namespace {

proto::RunConfig config_with(const std::string& params) {
  return parse_config("seed: 7\ndata { source: \"synthetic\" }\n" + params, "test");
}

// Sets the launch variables for one test and removes them after it.
class LaunchEnv {
 public:
  LaunchEnv(const char* seed, const char* sets, const char* launcher) {
    set("REPRO_SEED", seed);
    set("REPRO_SET", sets);
    set("REPRO_LAUNCHER", launcher);
  }
  ~LaunchEnv() {
    for (const char* n : {"REPRO_SEED", "REPRO_SET", "REPRO_LAUNCHER"}) unsetenv(n);
  }

 private:
  static void set(const char* name, const char* value) {
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
};

TEST(SessionParamsTest, DefaultConfigAndOverrideSourcesInFirstAskedOrder) {
  testing::TempDir dir;
  LaunchEnv env(nullptr, "params.lr=0.010\ntrain.steps=50", "repro run");
  std::string run_dir;
  {
    Session session(config_with("params { key: \"width\" value: \"64\" }\n"
                                "params { key: \"lr\" value: \"0.5\" }\n"),
                    testing::quiet_session_options(dir));
    EXPECT_EQ(session.param("lr", 0.05), 0.01);
    EXPECT_EQ(session.param("width", 32), 64);
    EXPECT_EQ(session.param("name", "adam"), "adam");
    EXPECT_EQ(session.param("lr", 0.05), 0.01);  // again: the recorded value, not a second entry
    EXPECT_EQ(session.config().train().steps(), 50);
    run_dir = session.run_dir();
    session.finish();
  }
  const auto h = read_run(run_dir).header;
  ASSERT_EQ(h.params_size(), 3);
  EXPECT_EQ(h.params(0).name(), "lr");
  EXPECT_EQ(h.params(0).type(), "double");
  EXPECT_EQ(h.params(0).default_value(), "0.05");
  EXPECT_EQ(h.params(0).value(), "0.01");  // shortest round-trip text of what was given as 0.010
  EXPECT_EQ(h.params(0).source(), proto::PARAM_SOURCE_OVERRIDE);
  EXPECT_EQ(h.params(1).name(), "width");
  EXPECT_EQ(h.params(1).type(), "int");
  EXPECT_EQ(h.params(1).value(), "64");
  EXPECT_EQ(h.params(1).source(), proto::PARAM_SOURCE_CONFIG);
  EXPECT_EQ(h.params(2).name(), "name");
  EXPECT_EQ(h.params(2).type(), "string");
  EXPECT_EQ(h.params(2).value(), "adam");
  EXPECT_EQ(h.params(2).source(), proto::PARAM_SOURCE_DEFAULT);
  ASSERT_EQ(h.overrides_size(), 2);
  EXPECT_EQ(h.overrides(0), "params.lr=0.010");
  EXPECT_EQ(h.overrides(1), "train.steps=50");
  EXPECT_EQ(h.launcher(), "repro run");
  EXPECT_EQ(h.config().params().at("lr"), "0.010");  // the config keeps the text as given
}

TEST(SessionParamsTest, ConversionsOfEachType) {
  testing::TempDir dir;
  Session session(config_with("params { key: \"on\" value: \"1\" }\n"
                              "params { key: \"off\" value: \"false\" }\n"
                              "params { key: \"big\" value: \"-9000000000\" }\n"
                              "params { key: \"tiny\" value: \"1e-300\" }\n"
                              "params { key: \"text\" value: \" spaced \" }\n"),
                  testing::quiet_session_options(dir));
  EXPECT_TRUE(session.param("on", false));
  EXPECT_FALSE(session.param("off", true));
  EXPECT_EQ(session.param("big", std::int64_t{1}), -9000000000LL);
  EXPECT_EQ(session.param("tiny", 1.0), 1e-300);
  EXPECT_EQ(session.param("text", std::string("x")), " spaced ");
  EXPECT_EQ(session.param("third", 1.0 / 3.0), 1.0 / 3.0);
  const auto& p = session.header().params();
  EXPECT_EQ(p.Get(0).value(), "true");
  EXPECT_EQ(p.Get(1).value(), "false");
  EXPECT_EQ(p.Get(2).type(), "int");
  EXPECT_EQ(p.Get(2).value(), "-9000000000");
  EXPECT_EQ(p.Get(5).default_value(), "0.3333333333333333");
  session.finish();
}

TEST(SessionParamsTest, ValuesThatDoNotConvertAreInputErrorsNamingTheParameter) {
  testing::TempDir dir;
  Session session(config_with("params { key: \"n\" value: \"1.5\" }\n"
                              "params { key: \"flag\" value: \"yes\" }\n"
                              "params { key: \"lr\" value: \"0.1x\" }\n"
                              "params { key: \"w\" value: \"3000000000\" }\n"),
                  testing::quiet_session_options(dir));
  const Error n = testing::thrown_error([&] { session.param("n", 2); });
  EXPECT_EQ(n.kind(), ErrorKind::kInput);
  EXPECT_STREQ(n.what(), "params.n: '1.5' from the config's params section is not a valid int (the default is 2)");
  EXPECT_EQ(testing::error_message([&] { session.param("flag", false); }).rfind("params.flag: 'yes'", 0), 0u);
  EXPECT_EQ(testing::error_message([&] { session.param("lr", 0.05); }).rfind("params.lr: '0.1x'", 0), 0u);
  EXPECT_EQ(testing::error_message([&] { session.param("w", 1); }).rfind("params.w: '3000000000'", 0), 0u);
  EXPECT_EQ(session.param("w", std::int64_t{1}), 3000000000LL);  // fits an int64_t
  EXPECT_EQ(session.header().params_size(), 1);
  session.finish();
}

TEST(SessionParamsTest, AnotherTypeOrDefaultForTheSameNameIsUsage) {
  testing::TempDir dir;
  Session session(config_with(""), testing::quiet_session_options(dir));
  EXPECT_EQ(session.param("lr", 0.05), 0.05);
  const Error e = testing::thrown_error([&] { session.param("lr", 0.1); });
  EXPECT_EQ(e.kind(), ErrorKind::kUsage);
  EXPECT_STREQ(e.what(),
               "Session::param: params.lr was asked for as double with default 0.05, now as double with "
               "default 0.1");
  EXPECT_EQ(testing::thrown_error([&] { session.param("lr", 1); }).kind(), ErrorKind::kUsage);
  EXPECT_EQ(testing::thrown_error([&] { session.param("bad name", 1); }).kind(), ErrorKind::kUsage);
  EXPECT_EQ(session.header().params_size(), 1);
  session.finish();
}

TEST(SessionParamsTest, ReproSeedReplacesTheConfigSeed) {
  testing::TempDir dir;
  LaunchEnv env("123456789", nullptr, nullptr);
  Session session(config_with(""), testing::quiet_session_options(dir));
  EXPECT_EQ(session.seed(), 123456789u);
  EXPECT_EQ(session.header().seed(), 123456789u);
  EXPECT_EQ(session.config().seed(), 123456789u);
  EXPECT_EQ(session.header().launcher(), "");
  EXPECT_EQ(session.header().overrides_size(), 0);
  session.finish();
}

TEST(SessionParamsTest, BadLaunchVariablesAreUsageErrorsAndWriteNothing) {
  testing::TempDir dir;
  for (const char* bad : {"0", "-3", "12x", "", "99999999999999999999"}) {
    LaunchEnv env(bad, nullptr, nullptr);
    const Error e =
        testing::thrown_error([&] { Session session(config_with(""), testing::quiet_session_options(dir)); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage) << bad;
    EXPECT_EQ(std::string(e.what()),
              std::string("REPRO_SEED: '") + bad + "' is not a positive integer (the master seed)");
  }
  {
    LaunchEnv env(nullptr, "params.9lives=1", nullptr);
    const Error e =
        testing::thrown_error([&] { Session session(config_with(""), testing::quiet_session_options(dir)); });
    EXPECT_EQ(e.kind(), ErrorKind::kUsage);
    EXPECT_EQ(std::string(e.what()).rfind("--set params.9lives=1: '9lives' is not a parameter name", 0), 0u)
        << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace repro
