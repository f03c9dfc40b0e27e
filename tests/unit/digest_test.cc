#include "repro/digest.h"

#include <gtest/gtest.h>

#include "repro/error.h"
#include "testutil.h"

namespace repro {
namespace {

// Golden values from the reference implementation: `xxhsum -H2` (XXH3-128) of the same bytes.
TEST(DigestTest, MatchesReferenceXxh3_128) {
  EXPECT_EQ(digest_bytes(""), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(digest_bytes("abc"), "06b05ab6733a618578af5f94892f3950");
}

TEST(DigestTest, IncrementalEqualsOneShotForAnySplit) {
  std::string data(100000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  const std::string whole = digest_bytes(data);
  for (std::size_t split : {0UL, 1UL, 63UL, 64UL, 240UL, 4096UL, 99999UL}) {
    Hasher h;
    h.update(data.data(), split);
    h.update(data.data() + split, data.size() - split);
    EXPECT_EQ(h.hex_digest(), whole) << "split at " << split;
  }
}

TEST(DigestTest, FileDigestEqualsDigestOfItsBytesAndReportsSize) {
  testing::TempDir dir;
  const std::string path = dir / "f.bin";
  testing::write_file(path, "abc");
  std::uint64_t size = 0;
  EXPECT_EQ(digest_file(path, &size), "06b05ab6733a618578af5f94892f3950");
  EXPECT_EQ(size, 3u);
}

TEST(DigestTest, MissingFileIsAnInputErrorNamingThePath) {
  try {
    digest_file("/nonexistent/data.bin");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    EXPECT_EQ(e.exit_code(), kExitBadInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/data.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace repro
