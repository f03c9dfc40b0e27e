// `repro env` and the CLI skeleton, run as a user runs them: the real binary, fresh processes.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include "proto/environment.pb.h"
#include "repro/digest.h"
#include "testutil.h"

namespace repro {
namespace {

using testing::run_repro;

proto::Environment parse_env_json(const std::string& json) {
  proto::Environment env;
  google::protobuf::util::JsonParseOptions strict;  // unknown fields are an error
  const auto status = google::protobuf::util::JsonStringToMessage(json, &env, strict);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return env;
}

TEST(EnvCliTest, JsonIsAnEnvironmentMessage) {
  const auto r = run_repro({"env", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto env = parse_env_json(r.out);
  EXPECT_EQ(env.schema_version(), 1u);
  EXPECT_EQ(env.torch().version(), "1.13.0");
  EXPECT_EQ(env.torch().package_version(), "1.13.1+dfsg-4");
  EXPECT_FALSE(env.libraries().empty());
  EXPECT_EQ(env.identity().executable_path(), std::filesystem::canonical(testing::repro_binary()).string());
}

TEST(EnvCliTest, OmpNumThreadsInTheChildShowsInItsCapture) {
  const auto r = run_repro({"env", "--json"}, {{"OMP_NUM_THREADS", "3"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto env = parse_env_json(r.out);
  ASSERT_EQ(env.numerics_env().count("OMP_NUM_THREADS"), 1u);
  EXPECT_EQ(env.numerics_env().at("OMP_NUM_THREADS"), "3");
  EXPECT_EQ(env.threads().intra_op(), 3);
  EXPECT_EQ(env.threads().intra_op_source(), "OMP_NUM_THREADS=3");

  const auto plain = run_repro({"env", "--json"}, {{"OMP_NUM_THREADS", "\x01unset"}, {"MKL_NUM_THREADS", "\x01unset"}});
  EXPECT_EQ(parse_env_json(plain.out).numerics_env().count("OMP_NUM_THREADS"), 0u);
}

TEST(EnvCliTest, CapabilityPinShowsInCapture) {
  const auto r = run_repro({"env", "--json"}, {{"ATEN_CPU_CAPABILITY", "default"}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto env = parse_env_json(r.out);
  EXPECT_EQ(env.torch().cpu_capability(), "DEFAULT");
  EXPECT_EQ(env.numerics_env().at("ATEN_CPU_CAPABILITY"), "default");
}

TEST(EnvCliTest, TextOutputIsTheTable) {
  const auto r = run_repro({"env"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("torch\n", 0), 0u);
  EXPECT_NE(r.out.find("\nlibraries in this process\n"), std::string::npos);
  EXPECT_NE(r.out.find("  blas "), std::string::npos);
}

TEST(EnvCliTest, VerifyAgainstTheProjectLockPasses) {
  const auto r = run_repro({"env", "--verify", testing::source_path("environment.lock")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST(EnvCliTest, VerifyNamesAPackageWhoseVersionDiffers) {
  testing::TempDir dir;
  std::string lock = testing::read_file(testing::source_path("environment.lock"));
  const std::string from = "libxxhash-dev                 0.8.1-1";
  ASSERT_NE(lock.find(from), std::string::npos);
  lock.replace(lock.find(from), from.size(), "libxxhash-dev 0.8.2-9");
  testing::write_file(dir / "changed.lock", lock);

  const auto r = run_repro({"env", "--verify", dir / "changed.lock"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("libxxhash-dev"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0.8.2-9 -> 0.8.1-1"), std::string::npos) << r.out;

  const auto j = run_repro({"env", "--verify", dir / "changed.lock", "--json"});
  EXPECT_EQ(j.exit_code, 1);
  proto::LockCheck check;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(j.out, &check).ok()) << j.out;
  ASSERT_EQ(check.mismatches_size(), 1);
  EXPECT_EQ(check.mismatches(0).name(), "libxxhash-dev");
}

TEST(EnvCliTest, ExecutableDigestChangesWhenTheFileChanges) {
  testing::TempDir dir;
  const std::string copy = dir / "repro";
  std::filesystem::copy_file(testing::repro_binary(), copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  const auto before = testing::run_process({copy, "env", "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const std::string d1 = parse_env_json(before.out).identity().executable_xxh3();
  EXPECT_EQ(d1, digest_file(copy));

  std::ofstream(copy, std::ios::app | std::ios::binary) << '\0';  // trailing bytes: still a valid ELF
  const auto after = testing::run_process({copy, "env", "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  const std::string d2 = parse_env_json(after.out).identity().executable_xxh3();
  EXPECT_NE(d1, d2);
  EXPECT_EQ(d2, digest_file(copy));
}

// Bad input of every kind: exit 2 and exactly one line on stderr, nothing on stdout.
struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::string expected;  // a part of the one line
};
// Test names carry the case; print it instead of the struct's bytes.
inline void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

class EnvCliBadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(EnvCliBadInputTest, ExitsTwoWithOneLine) {
  const auto r = run_repro(GetParam().args);
  EXPECT_EQ(r.exit_code, 2);
  ASSERT_EQ(r.err_lines().size(), 1u) << r.err;
  EXPECT_NE(r.err.find(GetParam().expected), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EnvCliBadInputTest,
    ::testing::Values(BadInput{"UnknownCommand", {"frobnicate"}, "unknown command 'frobnicate'"},
                      BadInput{"UnknownFlag", {"env", "--bogus"}, "repro env: unrecognised option '--bogus'"},
                      BadInput{"MissingLockFile", {"env", "--verify", "/nonexistent"}, "/nonexistent"},
                      BadInput{"FlagWithoutValue", {"env", "--verify"}, "repro env:"},
                      BadInput{"UnknownGlobalFlag", {"--bogus"}, "unknown option '--bogus'"},
                      BadInput{"BadGlobalLogLevel", {"--log-level", "loud", "env"}, "unknown log level 'loud'"},
                      BadInput{"BadLogLevel", {"env", "--log-level", "loud"}, "unknown log level 'loud'"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return info.param.name; });

TEST(EnvCliTest, MalformedLockNamesFileAndLine) {
  testing::TempDir dir;
  testing::write_file(dir / "bad.lock", "# c\nlibfoo 1.0\nlibbar\n");
  const auto r = run_repro({"env", "--verify", dir / "bad.lock"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(dir / "bad.lock:3:"), std::string::npos) << r.err;
}

TEST(EnvCliTest, HelpAndVersionTellTheTruth) {
  const auto help = run_repro({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("  env "), std::string::npos);
  EXPECT_NE(help.out.find("exit codes"), std::string::npos);
  const auto env_help = run_repro({"env", "--help"});
  EXPECT_EQ(env_help.exit_code, 0);
  EXPECT_NE(env_help.out.find("--verify"), std::string::npos);
  EXPECT_NE(env_help.out.find("--json"), std::string::npos);
  const auto version = run_repro({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("repro (reprotorch) ", 0), 0u);
  const auto none = run_repro({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err, "repro: no command given (see 'repro --help' for the commands)\n");
}

}  // namespace
}  // namespace repro
