// util/env_names.h: every REPRO_* variable name of the harness is spelled out there, nowhere else.
#include "util/env_names.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

TEST(EnvNamesTest, NoReproVariableNameIsSpelledOutsideEnvNames) {
  const fs::path harness = testing::source_path("harness");
  const fs::path home = harness / "src/util/env_names.h";
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(harness)) {
    const std::string ext = entry.path().extension().string();
    if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h" && ext != ".in") || entry.path() == home) continue;
    const std::string text = testing::read_file(entry.path().string());
    for (auto pos = text.find("\"REPRO_"); pos != std::string::npos; pos = text.find("\"REPRO_", pos + 1)) {
      const auto line = std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n') + 1;
      found.push_back(fs::relative(entry.path(), harness).string() + ":" + std::to_string(line));
    }
  }
  EXPECT_TRUE(found.empty()) << "REPRO_ literal at " << ::testing::PrintToString(found);
}

TEST(EnvNamesTest, NamesAreTheDocumentedOnes) {
  EXPECT_STREQ(internal::kEnvRunDir, "REPRO_RUN_DIR");
  EXPECT_STREQ(internal::kEnvRerunOf, "REPRO_RERUN_OF");
  EXPECT_STREQ(internal::kEnvReexecuted, "REPRO_REEXECUTED");
  EXPECT_STREQ(internal::kEnvTraceStep, "REPRO_TRACE_STEP");
  EXPECT_STREQ(internal::kEnvTraceFile, "REPRO_TRACE_FILE");
  EXPECT_STREQ(internal::kEnvTraceStop, "REPRO_TRACE_STOP");
  EXPECT_STREQ(internal::kEnvTraceSet, "REPRO_TRACE_SET");
  EXPECT_STREQ(internal::kEnvTraceRank, "REPRO_TRACE_RANK");
  EXPECT_STREQ(internal::kEnvLogLevel, "REPRO_LOG_LEVEL");
  EXPECT_STREQ(internal::kEnvDistTimeout, "REPRO_DIST_TIMEOUT_S");
}

}  // namespace
}  // namespace repro
