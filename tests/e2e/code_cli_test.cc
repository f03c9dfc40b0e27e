// A user's program run from a dirty git work tree: the run directory keeps the patch, `repro
// show` says how to restore it, `repro compare` names the files two patches differ in, and
// `repro rerun` warns when the work tree has moved on. The real binaries, in fresh processes.
#include <gtest/gtest.h>

#include <cstdlib>

#include "proto/report.pb.h"
#include "report_util.h"
#include "repro/record.h"
#include "testutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using testing::last_line;
using testing::parse_report;
using testing::read_file;
using testing::run_repro;
using testing::TempDir;
using testing::write_file;

std::string quoted(const std::string& s) { return "'" + s + "'"; }

int shell(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

std::string git(const std::string& root, const std::string& args) { return "git -C " + quoted(root) + " " + args; }

// The user trainer run with `repo` as its working directory; its run directory.
std::string run_in(const std::string& repo, const std::string& runs) {
  const auto r = testing::run_process({REPRO_USER_TRAINER, runs}, {}, repo);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return last_line(r.out);
}

TEST(CodeIdentityCliTest, DirtyRunKeepsItsPatchAndSaysHowToRestoreIt) {
  TempDir dir;
  const std::string repo = dir / "repo";
  fs::create_directories(repo);
  ASSERT_EQ(shell(git(repo, "init -q") + " && " + git(repo, "config user.name test") + " && " +
                  git(repo, "config user.email test@example.com") + " && " + git(repo, "config commit.gpgsign false")),
            0);
  write_file(repo + "/train.cc", "int main() { return 0; }\n");
  write_file(repo + "/weights.bin", std::string("\0\x01\x02\x03\xff", 5) + std::string(300, '\x7f'));
  ASSERT_EQ(shell(git(repo, "add -A") + " && " + git(repo, "commit -q -m base")), 0);
  write_file(repo + "/train.cc", "int main() { return 1; }\n");
  write_file(repo + "/weights.bin", std::string("\0\x09\x02\x03\xfe", 5) + std::string(300, '\x7f'));
  write_file(repo + "/notes.txt", "untracked\n");

  const std::string a = run_in(repo, dir / "runs");
  const auto code = read_run(a).header.code();
  ASSERT_TRUE(code.git_dirty());
  EXPECT_EQ(code.git_root(), fs::canonical(repo).string());
  EXPECT_EQ(code.patch(), "code.patch");
  EXPECT_EQ(std::vector<std::string>(code.changed_files().begin(), code.changed_files().end()),
            (std::vector<std::string>{"train.cc", "weights.bin"}));
  EXPECT_EQ(std::vector<std::string>(code.untracked_files().begin(), code.untracked_files().end()),
            (std::vector<std::string>{"notes.txt"}));
  const std::string patch = read_file(a + "/code.patch");
  EXPECT_EQ(patch.size(), code.patch_size());

  // The patch rebuilds the work tree on a clean clone of the commit.
  const std::string clone = dir / "clone";
  ASSERT_EQ(shell("git clone -q " + quoted(repo) + " " + quoted(clone)), 0);
  ASSERT_EQ(shell(git(clone, "apply " + quoted(a + "/code.patch"))), 0);
  EXPECT_EQ(read_file(clone + "/train.cc"), read_file(repo + "/train.cc"));
  EXPECT_EQ(read_file(clone + "/weights.bin"), read_file(repo + "/weights.bin"));

  const auto show = run_repro({"show", a});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  const std::string root = code.git_root();
  EXPECT_NE(show.out.find("git -C " + root + " checkout " + code.git_commit() + " && git -C " + root + " apply " + a +
                          "/code.patch"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("notes.txt"), std::string::npos) << show.out;

  // Another uncommitted change to one file: compare names the patch difference and that file.
  write_file(repo + "/train.cc", "int main() { return 2; }\n");
  const std::string b = run_in(repo, dir / "runs");
  const auto compared = run_repro({"compare", a, b, "--json"});
  const auto report = parse_report(compared);
  const proto::Difference* patch_difference = nullptr;
  for (const auto& d : report.differences()) {
    if (d.field() == "code.patch_xxh3") patch_difference = &d;
  }
  ASSERT_NE(patch_difference, nullptr) << compared.out;
  EXPECT_EQ(patch_difference->explanation(), "uncommitted changes (code.patch) " + patch_difference->a() + " vs " +
                                                 patch_difference->b() + ": other changes in train.cc");
  EXPECT_EQ(patch_difference->a(), code.patch_xxh3());
  EXPECT_EQ(patch_difference->b(), read_run(b).header.code().patch_xxh3());

  // A rerun of the first run warns that the work tree no longer holds its changes, and runs.
  const auto rerun = run_repro({"rerun", a, "--json"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.err.find("warning: the work tree " + root +
                           " no longer matches the run's uncommitted changes (code.patch): other changes in train.cc"),
            std::string::npos)
      << rerun.err;
  // Restored, the work tree matches again: no warning.
  write_file(repo + "/train.cc", "int main() { return 1; }\n");
  const auto again = run_repro({"rerun", a, "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("no longer matches"), std::string::npos) << again.err;
}

}  // namespace
}  // namespace repro
