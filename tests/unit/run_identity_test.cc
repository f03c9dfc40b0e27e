// run/run_identity.h: run ids a file system takes, whatever the config's name.
#include "run/run_identity.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace repro {
namespace {

TEST(RunIdentityTest, RunIdsCleanAndCutTheName) {
  const std::string id = internal::make_run_id("mlp fashion/mnist");
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9]{8}-[0-9]{6}-mlp_fashion_mnist-[0-9a-f]{6}"))) << id;
  // A 300-character name is cut to kRunIdNameMax: the directory name stays far under 255 bytes.
  const std::string long_id = internal::make_run_id(std::string(300, 'x'));
  EXPECT_EQ(long_id.size(), 15 + 1 + internal::kRunIdNameMax + 1 + 6) << long_id;
  EXPECT_NE(long_id.find("-" + std::string(internal::kRunIdNameMax, 'x') + "-"), std::string::npos) << long_id;
  EXPECT_TRUE(std::regex_match(internal::make_run_id(""), std::regex("[0-9]{8}-[0-9]{6}-run-[0-9a-f]{6}")));
}

}  // namespace
}  // namespace repro
