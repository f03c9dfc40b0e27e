// run/code_patch.cc and the code part of compare: on real git repositories in temporary
// directories (git configured locally, so the machine's own git config does not matter).
#include "run/code_patch.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "repro/compare.h"
#include "repro/digest.h"
#include "run/run_identity.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

int shell(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

// A git repository with one commit: a.txt (text) and b.bin (binary, with NUL bytes).
class Repo {
 public:
  Repo() {
    root_ = fs::canonical(dir_.path()).string();
    git("init -q");
    git("config user.name test");
    git("config user.email test@example.com");
    git("config commit.gpgsign false");
    write("a.txt", "line 1\nline 2\nline 3\n");
    write("b.bin", random_bytes(4096, 1));
    commit("base");
  }
  const std::string& root() const { return root_; }
  std::string path(const std::string& name) const { return root_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const { write_file(path(name), content); }
  void git(const std::string& args) const { ASSERT_EQ(shell("git -C " + quoted(root_) + " " + args), 0) << args; }
  void commit(const std::string& message) const {
    git("add -A");
    git("commit -q -m " + message);
  }
  std::string head() const {
    bool ok = false;
    const std::string out = internal::run_git(root_, "rev-parse HEAD", &ok);
    EXPECT_TRUE(ok);
    return out.substr(0, out.find('\n'));
  }
  proto::CodeIdentity capture(std::uint64_t limit, std::string* patch) const {
    return internal::capture_code_identity(root_, proto::Environment(), limit, patch);
  }

 private:
  TempDir dir_;
  std::string root_;
};

// A clean clone of `repo` at its HEAD, in dir/clone.
std::string clean_clone(const Repo& repo, const TempDir& dir) {
  const std::string clone = dir / "clone";
  EXPECT_EQ(shell("git clone -q " + quoted(repo.root()) + " " + quoted(clone)), 0);
  return clone;
}

std::vector<std::string> names(const google::protobuf::RepeatedPtrField<std::string>& field) {
  return {field.begin(), field.end()};
}

TEST(CodePatchTest, DirtyTreePatchRestoresTheExactBytes) {
  Repo repo;
  repo.write("a.txt", "line 1\nline two\nline 3\nline 4\n");
  std::string binary = read_file(repo.path("b.bin"));
  binary[10] = '\0';
  binary[2000] = static_cast<char>(0xff);
  binary += std::string("\0\x01\x02", 3);
  repo.write("b.bin", binary);
  repo.write("c.txt", "a new tracked file\n");
  repo.git("add c.txt");
  repo.write("untracked.txt", "not added\n");

  std::string patch;
  const proto::CodeIdentity code = repo.capture(16u << 20, &patch);
  EXPECT_EQ(code.git_root(), repo.root());
  EXPECT_TRUE(code.git_dirty());
  EXPECT_EQ(code.patch(), "code.patch");
  EXPECT_EQ(names(code.changed_files()), (std::vector<std::string>{"a.txt", "b.bin", "c.txt"}));
  EXPECT_EQ(names(code.untracked_files()), (std::vector<std::string>{"untracked.txt"}));
  EXPECT_TRUE(code.left_out().empty());
  EXPECT_EQ(code.patch_size(), patch.size());
  EXPECT_EQ(code.patch_xxh3(), digest_bytes(patch));
  const auto parts = internal::split_diff(patch);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].path, "b.bin");
  EXPECT_NE(patch.find("GIT binary patch"), std::string::npos);

  TempDir dir;
  const std::string clone = clean_clone(repo, dir);
  write_file(dir / "code.patch", patch);
  ASSERT_EQ(shell("git -C " + quoted(clone) + " apply --check " + quoted(dir / "code.patch")), 0);
  ASSERT_EQ(shell("git -C " + quoted(clone) + " apply " + quoted(dir / "code.patch")), 0);
  for (const char* name : {"a.txt", "b.bin", "c.txt"}) {
    EXPECT_EQ(read_file(clone + "/" + name), read_file(repo.path(name))) << name;
  }
  EXPECT_FALSE(fs::exists(clone + "/untracked.txt"));  // listed, not copied
}

TEST(CodePatchTest, CapLeavesABigFileOutAndNamesIt) {
  Repo repo;
  repo.write("big.bin", random_bytes(64 << 10, 2));
  repo.commit("big");
  const std::string committed_big = read_file(repo.path("big.bin"));
  repo.write("big.bin", random_bytes(64 << 10, 3));  // incompressible: its diff is over 64 KiB
  repo.write("a.txt", "line 1\nline 2 changed\nline 3\n");

  std::string patch;
  const proto::CodeIdentity code = repo.capture(8u << 10, &patch);
  EXPECT_EQ(names(code.changed_files()), (std::vector<std::string>{"a.txt", "big.bin"}));
  const std::uint64_t big_part = code.patch_size() - patch.size();
  EXPECT_GT(big_part, 64u << 10);
  ASSERT_EQ(code.left_out_size(), 1);
  EXPECT_EQ(code.left_out(0), "big.bin: " + internal::byte_size_text(big_part) + ", over the 8 KiB cap");
  EXPECT_EQ(code.patch(), "code.patch");
  EXPECT_EQ(patch.find("big.bin"), std::string::npos);
  EXPECT_NE(code.patch_xxh3(), digest_bytes(patch));  // the digest is of the whole diff

  TempDir dir;
  const std::string clone = clean_clone(repo, dir);
  write_file(dir / "code.patch", patch);
  ASSERT_EQ(shell("git -C " + quoted(clone) + " apply " + quoted(dir / "code.patch")), 0);
  EXPECT_EQ(read_file(clone + "/a.txt"), read_file(repo.path("a.txt")));
  EXPECT_EQ(read_file(clone + "/big.bin"), committed_big);
}

TEST(CodePatchTest, CleanTreeKeepsNoPatch) {
  Repo repo;
  std::string patch = "stale";
  const proto::CodeIdentity code = repo.capture(16u << 20, &patch);
  EXPECT_EQ(code.git_commit(), repo.head());
  EXPECT_FALSE(code.git_dirty());
  EXPECT_TRUE(patch.empty());
  EXPECT_EQ(code.patch(), "");
  EXPECT_EQ(code.patch_size(), 0u);
  EXPECT_EQ(code.patch_xxh3(), "");
  EXPECT_TRUE(code.changed_files().empty());
}

TEST(CodePatchTest, OutsideGitNothingIsRecordedAndNothingFails) {
  TempDir dir;
  std::string patch;
  const proto::CodeIdentity code =
      internal::capture_code_identity(dir.path().string(), proto::Environment(), 16u << 20, &patch);
  EXPECT_EQ(code.git_commit(), "");
  EXPECT_FALSE(code.git_dirty());
  EXPECT_TRUE(patch.empty());
}

TEST(CodePatchTest, SplitDiffNamesEachFileAndKeepsEveryByte) {
  const std::string diff =
      "diff --git a/x b/x\nindex 1..2\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-diff --git a/no b/no\n+y\n"
      "diff --git a/dir/y z b/dir/y z\nnew file mode 100644\n";
  const auto files = internal::split_diff(diff);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "x");
  EXPECT_EQ(files[1].path, "dir/y z");
  EXPECT_EQ(files[0].text + files[1].text, diff);
  EXPECT_TRUE(internal::split_diff("").empty());
  EXPECT_EQ(internal::byte_size_text(512), "512 B");
  EXPECT_EQ(internal::byte_size_text(16u << 20), "16 MiB");
  EXPECT_EQ(internal::byte_size_text((40u << 20) + (1u << 20) / 10 + 1), "40.1 MiB");
}

TEST(CodePatchTest, FilesPatchedDifferentlySkipsWhatWasLeftOut) {
  const std::string a = "diff --git a/x b/x\n+1\ndiff --git a/y b/y\n+1\ndiff --git a/big b/big\n+1\n";
  const std::string b = "diff --git a/x b/x\n+2\ndiff --git a/y b/y\n+1\ndiff --git a/z b/z\n+1\n";
  EXPECT_EQ(internal::files_patched_differently(a, b), (std::vector<std::string>{"big", "x", "z"}));
  EXPECT_EQ(internal::files_patched_differently(a, b, {"big"}), (std::vector<std::string>{"x", "z"}));
  proto::CodeIdentity code;
  code.add_left_out("big: 40.0 MiB, over the 16 MiB cap");
  EXPECT_EQ(internal::left_out_paths(code), (std::vector<std::string>{"big"}));
}

TEST(CodePatchTest, FilesChangedBetweenCommits) {
  Repo repo;
  const std::string first = repo.head();
  repo.write("a.txt", "other\n");
  repo.write("d.txt", "new\n");
  repo.commit("second");
  const std::string second = repo.head();
  EXPECT_EQ(internal::files_changed_between(repo.root(), first, second), (std::vector<std::string>{"a.txt", "d.txt"}));
  EXPECT_FALSE(internal::files_changed_between(repo.root(), first, std::string(40, 'e')).has_value());
  TempDir not_a_repo;
  EXPECT_FALSE(internal::files_changed_between(not_a_repo.path().string(), first, second).has_value());
}

TEST(CodePatchTest, WorkTreeDriftNamesTheFilesThatDiffer) {
  Repo repo;
  repo.write("a.txt", "changed\n");
  repo.write("b.bin", random_bytes(4096, 9));
  std::string patch;
  const proto::CodeIdentity recorded = repo.capture(16u << 20, &patch);
  EXPECT_TRUE(internal::work_tree_drift(recorded, patch).empty());

  repo.write("a.txt", "changed again\n");
  const auto drift = internal::work_tree_drift(recorded, patch);
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0], "the work tree " + repo.root() +
                          " no longer matches the run's uncommitted changes (code.patch): other changes in a.txt");

  repo.commit("later");
  const auto moved = internal::work_tree_drift(recorded, patch);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_NE(moved[0].find("is at commit " + repo.head() + ", the run was made at " + recorded.git_commit()),
            std::string::npos)
      << moved[0];
}

const proto::Difference* find_field(const std::vector<proto::Difference>& differences, const std::string& field) {
  for (const auto& d : differences) {
    if (d.field() == field) return &d;
  }
  return nullptr;
}

TEST(CodePatchTest, CompareNamesTheFilesOfTwoPatchesAndOfTwoCommits) {
  Repo repo;
  repo.write("a.txt", "one\n");
  repo.write("b.bin", random_bytes(100, 4));
  proto::RunRecord a, b;
  std::string patch;
  *a.mutable_code() = repo.capture(16u << 20, &patch);
  repo.write("a.txt", "two\n");
  *b.mutable_code() = repo.capture(16u << 20, &patch);
  const auto differences = header_differences(a, b);
  const proto::Difference* d = find_field(differences, "code.patch_xxh3");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->affects_numerics());
  EXPECT_EQ(d->explanation(), "uncommitted changes (code.patch) " + a.code().patch_xxh3() + " vs " +
                                  b.code().patch_xxh3() + ": other changes to a.txt, b.bin");
  EXPECT_EQ(find_field(differences, "code.git_commit"), nullptr);

  repo.commit("second");
  *b.mutable_code() = repo.capture(16u << 20, &patch);
  const auto commits = header_differences(a, b);
  const proto::Difference* dirty = find_field(commits, "code.git_dirty");
  ASSERT_NE(dirty, nullptr);
  EXPECT_EQ(dirty->explanation(),
            "uncommitted changes true vs false: the code may differ from its commit; A changed a.txt, b.bin");
  const proto::Difference* c = find_field(commits, "code.git_commit");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->explanation(), "git commit " + a.code().git_commit() + " vs " + b.code().git_commit() +
                                  ": other code; 2 files changed between them: a.txt, b.bin");
}

}  // namespace
}  // namespace repro
