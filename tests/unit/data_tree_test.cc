// run/data_tree.cc (repro/data.h): directory manifests, their digest, diffs, the digest cache.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "repro/data.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "run/data_tree.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

std::string u64_le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A digest with its own cache directory, so that the user's cache plays no part.
PathDigest digest_with_cache(const std::string& path, const std::string& cache, bool rehash = false) {
  DigestOptions options;
  options.cache_dir = cache;
  options.rehash = rehash;
  return digest_path(path, options);
}

TEST(DataTreeTest, ManifestListsRegularFilesSortedWithSizesAndDigests) {
  testing::TempDir dir;
  const fs::path root = dir.path() / "data";
  fs::create_directories(root / "a" / "c");
  testing::write_file((root / "z.txt").string(), "zz");
  testing::write_file((root / "B").string(), "");
  testing::write_file((root / "a" / "b.txt").string(), "abc");
  testing::write_file((root / "a" / "c" / "d.bin").string(), std::string("\0\1\2\3", 4));
  fs::create_symlink(root / "z.txt", root / "link-to-file");
  fs::create_symlink(root / "a", root / "link-to-dir");  // not followed: no loops, no double count
  const PathDigest d = digest_with_cache(root.string(), "off");
  ASSERT_TRUE(d.directory);
  EXPECT_EQ(d.absolute_path, root.string());
  ASSERT_EQ(d.manifest.entries_size(), 5);
  const char* paths[] = {"B", "a/b.txt", "a/c/d.bin", "link-to-file", "z.txt"};  // bytewise order
  const std::uint64_t sizes[] = {0, 3, 4, 2, 2};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(d.manifest.entries(i).path(), paths[i]);
    EXPECT_EQ(d.manifest.entries(i).size(), sizes[i]) << paths[i];
  }
  EXPECT_EQ(d.manifest.entries(1).xxh3(), digest_bytes("abc"));
  EXPECT_EQ(d.manifest.entries(3).xxh3(), digest_bytes("zz"));
  EXPECT_EQ(d.file_count, 5);
  EXPECT_EQ(d.size, 11u);
  EXPECT_EQ(d.files_read, 5);
  EXPECT_EQ(d.xxh3, manifest_digest(d.manifest));
  EXPECT_EQ(d.manifest.root(), root.string());
}

// The layout documented in repro/data.h, byte for byte, and a golden value that pins it.
TEST(DataTreeTest, DirectoryDigestLayoutIsTheDocumentedOne) {
  proto::DataManifest m;
  auto* a = m.add_entries();
  a->set_path("a.txt");
  a->set_size(3);
  a->set_xxh3(digest_bytes("abc"));
  auto* b = m.add_entries();
  b->set_path("sub/b.bin");
  b->set_size(0);
  b->set_xxh3(digest_bytes(""));
  const std::string bytes =
      u64_le(5) + "a.txt" + u64_le(3) + digest_bytes("abc") + u64_le(9) + "sub/b.bin" + u64_le(0) + digest_bytes("");
  EXPECT_EQ(manifest_digest(m), digest_bytes(bytes));
  EXPECT_EQ(manifest_digest(m), "c88b8ca28d767127d84b197f399970eb");  // computed with libxxhash XXH3_128bits
  EXPECT_EQ(manifest_digest(proto::DataManifest()), digest_bytes(""));
}

TEST(DataTreeTest, DiffCountsAddedRemovedChangedWithThousandsSeparators) {
  proto::DataManifest a, b;
  auto add = [](proto::DataManifest& m, const std::string& path, const std::string& digest) {
    auto* e = m.add_entries();
    e->set_path(path);
    e->set_size(1);
    e->set_xxh3(digest);
  };
  add(a, "labels.csv", "old");
  add(a, "gone.png", "g");
  add(b, "labels.csv", "new");
  for (int i = 0; i < 2000; ++i) add(b, "img" + std::to_string(10000 + i) + ".png", "x");
  const ManifestDiff d = diff_manifests(a, b);
  EXPECT_EQ(d.added, 2000);
  EXPECT_EQ(d.removed, 1);
  EXPECT_EQ(d.changed, 1);
  EXPECT_EQ(d.added_names, (std::vector<std::string>{"img10000.png", "img10001.png", "img10002.png"}));
  EXPECT_EQ(describe_diff("data/train", d),
            "data/train: 2,000 files added, 1 removed, 1 changed (added: img10000.png, img10001.png, "
            "img10002.png, ...; removed: gone.png; changed: labels.csv)");
  EXPECT_EQ(describe_diff("data/train", diff_manifests(a, a)), "data/train: no file changed");
  ManifestDiff one;
  one.changed = 1;
  one.changed_names = {"labels.csv"};
  EXPECT_EQ(describe_diff("d", one), "d: 1 file changed (changed: labels.csv)");
  EXPECT_EQ(internal::with_thousands(1234567), "1,234,567");
  EXPECT_EQ(internal::with_thousands(999), "999");
}

// The cache's rule and its documented risk: a change that keeps size, mtime and inode is not
// seen until --rehash.
TEST(DataTreeTest, CacheSkipsUnchangedFilesAndRehashReadsThemAgain) {
  testing::TempDir dir;
  const std::string root = dir / "data";
  fs::create_directories(root);
  const std::string file = root + "/labels.bin";
  testing::write_file(file, "0123456789");
  testing::write_file(root + "/other.bin", "x");
  const std::string cache = dir / "cache";

  const PathDigest first = digest_with_cache(root, cache);
  EXPECT_EQ(first.files_read, 2);
  EXPECT_EQ(fs::directory_iterator(cache) != fs::directory_iterator(), true) << "a cache file was written";
  const PathDigest second = digest_with_cache(root, cache);
  EXPECT_EQ(second.files_read, 0);
  EXPECT_EQ(second.xxh3, first.xxh3);

  struct stat before {};
  ASSERT_EQ(stat(file.c_str(), &before), 0);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);  // in place: same inode
    f.seekp(0);
    f << "9";
  }
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);

  const PathDigest hidden = digest_with_cache(root, cache);
  EXPECT_EQ(hidden.files_read, 0);
  EXPECT_EQ(hidden.xxh3, first.xxh3) << "the cache hides a change that keeps size, mtime and inode";
  const PathDigest rehashed = digest_with_cache(root, cache, /*rehash=*/true);
  EXPECT_EQ(rehashed.files_read, 2);
  EXPECT_NE(rehashed.xxh3, first.xxh3);
  EXPECT_EQ(rehashed.manifest.entries(0).xxh3(), digest_bytes("9123456789"));
  EXPECT_EQ(digest_with_cache(root, cache).xxh3, rehashed.xxh3) << "rehash refreshed the cache";

  // Without a cache every file is read; a changed mtime is seen through the cache.
  EXPECT_EQ(digest_with_cache(root, "off").files_read, 2);
  testing::write_file(root + "/other.bin", "y");
  const PathDigest touched = digest_with_cache(root, cache);
  EXPECT_EQ(touched.files_read, 1);
}

TEST(DataTreeTest, SingleFileIsDigestedThroughTheCache) {
  testing::TempDir dir;
  const std::string file = dir / "big.bin";
  testing::write_file(file, std::string(4096, 'a'));
  const PathDigest d = digest_with_cache(file, dir / "cache");
  EXPECT_FALSE(d.directory);
  EXPECT_EQ(d.xxh3, digest_bytes(std::string(4096, 'a')));
  EXPECT_EQ(d.size, 4096u);
  EXPECT_EQ(d.files_read, 1);
  EXPECT_EQ(digest_with_cache(file, dir / "cache").files_read, 0);
}

TEST(DataTreeTest, UnusableCacheIsAWarningNotAnError) {
  testing::TempDir dir;
  testing::write_file(dir / "f", "abc");
  testing::write_file(dir / "not-a-dir", "");
  const PathDigest d = digest_with_cache(dir / "f", dir / "not-a-dir/cache");  // cannot be created
  EXPECT_EQ(d.xxh3, digest_bytes("abc"));
  // A corrupt cache file is read as none.
  const std::string cache = dir / "cache";
  digest_with_cache(dir / "f", cache);
  for (const auto& e : fs::directory_iterator(cache)) testing::write_file(e.path().string(), "\xff\xff garbage");
  const PathDigest again = digest_with_cache(dir / "f", cache);
  EXPECT_EQ(again.xxh3, digest_bytes("abc"));
  EXPECT_EQ(again.files_read, 1);
}

TEST(DataTreeTest, FifoInATreeIsSkippedWithoutBeingOpened) {
  testing::TempDir dir;
  const std::string root = dir / "data";
  fs::create_directories(root);
  testing::write_file(root + "/a.txt", "abc");
  ASSERT_EQ(mkfifo((root + "/pipe").c_str(), 0644), 0);  // opening it would block: it must not be
  const PathDigest d = digest_with_cache(root, "off");
  ASSERT_EQ(d.manifest.entries_size(), 1);
  EXPECT_EQ(d.manifest.entries(0).path(), "a.txt");
  const Error e = testing::thrown_error([&] { digest_path(root + "/pipe"); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_STREQ(e.what(), (root + "/pipe: cannot track data: not a regular file or directory").c_str());
}

TEST(DataTreeTest, UnreadableOrMissingFileIsAnInputErrorNamingIt) {
  testing::TempDir dir;
  const std::string root = dir / "data";
  fs::create_directories(root);
  const std::string bad = root + "/bad";
  if (geteuid() == 0) {
    // root reads any file; /proc/self/mem is a regular file whose first page cannot be read.
    fs::create_symlink("/proc/self/mem", bad);
  } else {
    testing::write_file(bad, "secret");
    fs::permissions(bad, fs::perms::none);
  }
  const Error e = testing::thrown_error([&] { digest_with_cache(root, "off"); });
  EXPECT_EQ(e.kind(), ErrorKind::kInput);
  EXPECT_EQ(std::string(e.what()).rfind(bad + ": ", 0), 0u) << e.what();
  const Error missing = testing::thrown_error([&] { digest_path(dir / "nothing"); });
  EXPECT_EQ(missing.kind(), ErrorKind::kInput);
  EXPECT_STREQ(missing.what(), (dir / "nothing" + ": cannot track data: No such file or directory").c_str());
}

TEST(DataTreeTest, CacheDirectoryFollowsTheEnvironment) {
  DigestOptions options;
  options.cache_dir = "/somewhere";
  EXPECT_EQ(internal::digest_cache_dir(options), "/somewhere");
  options.cache_dir = "off";
  EXPECT_EQ(internal::digest_cache_dir(options), "");
}

}  // namespace
}  // namespace repro
