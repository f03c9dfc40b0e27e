#include "repro/environment.h"

#include <ATen/Parallel.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <set>

#include "env/build_info.h"
#include "env/lockfile.h"
#include "repro/digest.h"
#include "testutil.h"

namespace repro {
namespace {

const proto::Environment& env() {
  static const proto::Environment e = capture_environment();
  return e;
}

TEST(EnvironmentTest, BlasLibraryFoundExistsOnDiskAndIsMappedInThisProcess) {
  const std::string maps = testing::read_file("/proc/self/maps");
  int blas = 0;
  for (const auto& lib : env().libraries()) {
    if (lib.role() != "blas") continue;
    ++blas;
    ASSERT_FALSE(lib.real_path().empty()) << lib.name();
    EXPECT_TRUE(std::filesystem::is_regular_file(lib.real_path())) << lib.real_path();
    EXPECT_NE(maps.find(lib.real_path()), std::string::npos) << lib.real_path() << " not in /proc/self/maps";
  }
  EXPECT_GE(blas, 1) << "no BLAS library found among the loaded objects";
}

TEST(EnvironmentTest, LapackOpenMpAndTorchAreFoundToo) {
  std::set<std::string> roles;
  for (const auto& lib : env().libraries()) roles.insert(lib.role());
  for (const char* role : {"lapack", "openmp", "torch", "c10", "onednn"}) EXPECT_EQ(roles.count(role), 1u) << role;
}

TEST(EnvironmentTest, CpuCapabilityIsOneAtenDefines) {
  // ATen's CPUCapability: DEFAULT, AVX2, AVX512 on x86; VSX, ZVECTOR elsewhere.
  const std::set<std::string> known = {"DEFAULT", "AVX2", "AVX512", "VSX", "ZVECTOR"};
  EXPECT_EQ(known.count(env().torch().cpu_capability()), 1u) << env().torch().cpu_capability();
}

TEST(EnvironmentTest, ThreadCountsAreTheLiveOnes) {
  EXPECT_EQ(env().threads().intra_op(), at::get_num_threads());
  EXPECT_EQ(env().threads().inter_op(), at::get_num_interop_threads());
  EXPECT_GE(env().threads().intra_op(), 1);
  EXPECT_FALSE(env().threads().intra_op_source().empty());
}

TEST(EnvironmentTest, PackagesAreTheLockAsBuiltWithInstalledVersions) {
  const auto locked = internal::parse_lock(internal::build_info().lock_content, "lock");
  ASSERT_EQ(env().packages_size(), static_cast<int>(locked.size()));
  for (std::size_t i = 0; i < locked.size(); ++i) {
    EXPECT_EQ(env().packages(static_cast<int>(i)).name(), locked[i].name);
    EXPECT_EQ(env().packages(static_cast<int>(i)).locked(), locked[i].version);
  }
  EXPECT_EQ(env().torch().package_version(), "1.13.1+dfsg-4");
  EXPECT_EQ(env().build().lock_sha256().size(), 64u);
}

TEST(EnvironmentTest, IdentityIsTheDigestOfThisExecutable) {
  EXPECT_EQ(env().identity().executable_path(), std::filesystem::canonical("/proc/self/exe").string());
  EXPECT_EQ(env().identity().executable_xxh3(), digest_file(env().identity().executable_path()));
}

TEST(EnvironmentTest, OsAndCpuFactsAreFilled) {
  EXPECT_FALSE(env().os().glibc().empty());
  EXPECT_FALSE(env().os().kernel().empty());
  EXPECT_GE(env().cpu().logical_cores(), 1);
  EXPECT_GE(env().cpu().affinity_cores(), 1);
  EXPECT_LE(env().cpu().affinity_cores(), env().cpu().logical_cores());
  EXPECT_EQ(env().schema_version(), kEnvironmentSchemaVersion);
}

TEST(EnvironmentTest, JsonRoundTripsThroughTheProtoMapping) {
  const std::string json = to_json(env());
  EXPECT_NE(json.find("\"numerics_env\""), std::string::npos) << "field names must stay snake_case";
  proto::Environment back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, env()));
}

TEST(EnvironmentTest, TextTableHasEveryTopic) {
  const std::string text = "\n" + format_environment(env());
  for (const char* topic : {"torch\n", "threads\n", "libraries in this process\n", "oneDNN\n", "numerics variables\n",
                            "build\n", "os\n", "cpu\n", "cuda\n", "packages (locked / installed)\n", "identity\n"}) {
    EXPECT_NE(text.find(std::string("\n") + topic), std::string::npos) << topic;
  }
}

}  // namespace
}  // namespace repro
