#include "repro/digest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "repro/error.h"
#include "testutil.h"
#include "util/xxh3_kernels.h"

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

// Every kernel this CPU runs (scalar, SSE2, AVX2, AVX-512) is the same hash: one-shot over
// random sizes 0..1 MiB from unaligned starts, and streamed in random pieces, equal to the
// scalar kernel's; and the kernel digests use is the widest one.
TEST(DigestTest, EveryVectorKernelIsTheScalarHash) {
  const auto kernels = internal::xxh3_kernels();
  ASSERT_STREQ(kernels.front()->name, "scalar");
  EXPECT_EQ(&internal::xxh3_kernel(), kernels.back());
  std::mt19937_64 rng(17);
  std::vector<unsigned char> bytes((1 << 20) + 64);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  std::vector<std::size_t> sizes = {0, 1, 3, 4, 8, 16, 17, 128, 129, 240, 241, 1024, 1025, 16384, 1 << 20};
  for (int i = 0; i < 60; ++i) sizes.push_back(rng() % ((1 << 20) + 1));
  const internal::Xxh3Kernel& scalar = *kernels.front();
  for (const internal::Xxh3Kernel* kernel : kernels) {
    SCOPED_TRACE(kernel->name);
    for (const std::size_t size : sizes) {
      const std::size_t start = rng() % 64;
      const void* data = bytes.data() + start;
      const internal::Hash128 want = scalar.hash(data, size), got = kernel->hash(data, size);
      EXPECT_TRUE(got.low64 == want.low64 && got.high64 == want.high64) << size << " bytes from +" << start;
      internal::Xxh3State state;
      kernel->reset(&state);
      for (std::size_t done = 0; done < size;) {
        const std::size_t piece = std::min<std::size_t>(size - done, rng() % 5000);
        kernel->update(&state, bytes.data() + start + done, piece);
        done += piece;
      }
      const internal::Hash128 streamed = kernel->digest(&state);
      EXPECT_TRUE(streamed.low64 == want.low64 && streamed.high64 == want.high64) << size << " bytes, streamed";
    }
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
