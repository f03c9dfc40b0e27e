// Private: the uncommitted change of a dirty git work tree, kept so that a run can be rebuilt
// (CodeIdentity.patch and the fields after it), and the git questions compare and rerun ask of
// a recorded work tree later. Every git command here is a fixed one; a git failure is never an
// error: it leaves a field empty and says why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/run_record.pb.h"

namespace repro::internal {

// The patch file's name in a run directory.
inline constexpr const char* kCodePatchFile = "code.patch";

// Runs `git -C <dir> --no-optional-locks <args>` (args fixed by the caller, stderr dropped) and
// returns its raw stdout, bytes as they come; *ok is false when git could not be run or failed.
std::string run_git(const std::string& dir, const std::string& args, bool* ok);

// One file's part of a `git diff`: from its "diff --git " line up to the next one.
struct FileDiff {
  std::string path;  // the file as the header names it; an unparsable header as written
  std::string text;  // the part's bytes
};

// `diff` cut into its files' parts, in order; concatenated they give `diff` back. Bytes before
// the first "diff --git " line (git writes none) form a part with an empty path.
std::vector<FileDiff> split_diff(std::string_view diff);

// The parts of `files` that fit in `limit` bytes together, whole parts only, taken in order (a
// part too big is skipped, a smaller later one may still fit); each part left out is named in
// *left_out as "<path>: <size>, over the <limit> cap".
std::string capped_patch(const std::vector<FileDiff>& files, std::uint64_t limit, std::vector<std::string>* left_out);

// "512 B", "3 KiB", "40.0 MiB": binary units, an exact multiple without decimals.
std::string byte_size_text(std::uint64_t bytes);

// `git diff HEAD --binary` of the work tree at `root`, as kept in code.patch before the cap;
// *ok false when git failed.
std::string work_tree_diff(const std::string& root, bool* ok);

// For a dirty work tree at `root` (code->git_root and git_commit already set): the size and
// XXH3 of work_tree_diff (patch_size, patch_xxh3), the changed and untracked files, and in *patch the patch file's
// bytes up to `limit` (capped_patch; code->patch names it when not empty). Untracked files are listed, not copied. A
// git failure is recorded in left_out and logged as a warning.
void capture_patch(const std::string& root, std::uint64_t limit, proto::CodeIdentity* code, std::string* patch);

// Writes `patch` to <run_dir>/code.patch atomically. When that fails: warns, clears
// code->patch, says why in code->left_out and returns false (the header must be written again).
bool write_code_patch(const std::string& run_dir, const std::string& patch, proto::CodeIdentity* code);

// The bytes of <run_dir>/<code.patch()>; empty when none was kept, or it is not a regular file
// or cannot be read (never opens a FIFO or device).
std::string read_code_patch(const std::string& run_dir, const proto::CodeIdentity& code);

// The files changed between commits `a` and `b` in the repository at `root` (git diff
// --name-only a b), sorted; nullopt when git cannot say (no repository there, unknown commit).
std::optional<std::vector<std::string>> files_changed_between(const std::string& root, const std::string& a,
                                                              const std::string& b);

// The files whose part differs between two diffs (in one only, or other bytes), sorted, except
// those named in `left_out` (CodeIdentity.left_out: not in a capped patch, so not comparable).
std::vector<std::string> files_patched_differently(std::string_view a, std::string_view b,
                                                   const std::vector<std::string>& left_out = {});

// The paths that CodeIdentity.left_out entries ("<path>: <size>, over the <cap> cap") name.
std::vector<std::string> left_out_paths(const proto::CodeIdentity& code);

// Which files two dirty records of one commit changed, from their changed_files alone (their
// patches are not at hand): "other changes to a.cc, b.h" when both lists are the same, else
// "A changed a.cc; B changed a.cc, c.h".
std::string changed_files_text(const proto::CodeIdentity& a, const proto::CodeIdentity& b);

// For a run recorded in a dirty work tree: one warning when that tree no longer matches the
// recorded patch (another commit checked out, or `git diff HEAD` now has another XXH3), naming
// the files that differ from `recorded_patch` (the run's code.patch; empty when not kept: then
// from changed_files); empty when it matches, for a clean run, or outside git.
std::vector<std::string> work_tree_drift(const proto::CodeIdentity& recorded, const std::string& recorded_patch);

// "a, b and 3 more": at most `shown` names of `names`.
std::string some_names(const std::vector<std::string>& names, std::size_t shown = 10);

}  // namespace repro::internal
