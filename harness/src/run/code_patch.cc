#include "run/code_patch.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>

#include "repro/digest.h"
#include "repro/error.h"
#include "util/fileutil.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// NUL-separated names (git's -z output), without the empty tail.
std::vector<std::string> nul_separated(const std::string& out) {
  std::vector<std::string> names;
  for (auto& name : split(out, '\0')) {
    if (!name.empty()) names.push_back(std::move(name));
  }
  return names;
}

// "a/P b/P" (no renames: both sides name the same file) -> "P"; anything else as written.
std::string diff_header_path(std::string_view rest) {
  if (rest.size() >= 5 && rest.size() % 2 == 1 && rest.substr(0, 2) == "a/") {
    const std::size_t p = (rest.size() - 5) / 2;
    if (rest.substr(p + 2, 3) == " b/" && rest.substr(2, p) == rest.substr(p + 5, p)) {
      return std::string(rest.substr(2, p));
    }
  }
  return std::string(rest);
}

constexpr std::size_t kMaxUntrackedListed = 1000;

}  // namespace

std::string run_git(const std::string& dir, const std::string& args, bool* ok) {
  const std::string command =
      "git -C " + shell_quote(dir) + " --no-optional-locks -c core.quotepath=off " + args + " 2>/dev/null </dev/null";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *ok = false;
    return out;
  }
  std::array<char, 65536> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  *ok = pclose(pipe) == 0;
  return out;
}

std::vector<FileDiff> split_diff(std::string_view diff) {
  static constexpr std::string_view kHeader = "diff --git ";
  std::vector<std::size_t> starts{0};
  for (auto pos = diff.find("\ndiff --git "); pos != std::string_view::npos;
       pos = diff.find("\ndiff --git ", pos + 1)) {
    starts.push_back(pos + 1);
  }
  starts.push_back(diff.size());
  std::vector<FileDiff> files;
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    const std::string_view part = diff.substr(starts[i], starts[i + 1] - starts[i]);
    if (part.empty()) continue;
    FileDiff f;
    if (part.substr(0, kHeader.size()) == kHeader) {
      const std::size_t eol = std::min(part.find('\n'), part.size());
      f.path = diff_header_path(part.substr(kHeader.size(), eol - kHeader.size()));
    }
    f.text = std::string(part);
    files.push_back(std::move(f));
  }
  return files;
}

std::string byte_size_text(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  std::uint64_t scale = 1;
  while (unit < 4 && bytes >= scale * 1024) {
    scale *= 1024;
    ++unit;
  }
  if (bytes % scale == 0) return std::to_string(bytes / scale) + " " + kUnits[unit];
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", static_cast<double>(bytes) / static_cast<double>(scale), kUnits[unit]);
  return buf;
}

std::string capped_patch(const std::vector<FileDiff>& files, std::uint64_t limit, std::vector<std::string>* left_out) {
  std::string patch;
  for (const auto& f : files) {
    if (patch.size() + f.text.size() <= limit) {
      patch += f.text;
    } else {
      left_out->push_back((f.path.empty() ? std::string("(preamble)") : f.path) + ": " + byte_size_text(f.text.size()) +
                          ", over the " + byte_size_text(limit) + " cap");
    }
  }
  return patch;
}

std::string work_tree_diff(const std::string& root, bool* ok) {
  return run_git(root,
                 "diff HEAD --binary --no-color --no-ext-diff --no-textconv --no-renames --no-relative "
                 "--src-prefix=a/ --dst-prefix=b/",
                 ok);
}

void capture_patch(const std::string& root, std::uint64_t limit, proto::CodeIdentity* code, std::string* patch) {
  bool ok = false;
  const std::string diff = work_tree_diff(root, &ok);
  if (!ok) {
    spdlog::warn("cannot keep the uncommitted changes of {}: `git diff HEAD --binary` failed", root);
    code->add_left_out("the whole patch: `git diff HEAD --binary` failed");
    return;
  }
  code->set_patch_size(diff.size());
  code->set_patch_xxh3(digest_bytes(diff));
  const std::string changed = run_git(root, "diff --name-only -z --no-renames --no-relative HEAD", &ok);
  if (ok) {
    for (const auto& name : nul_separated(changed)) code->add_changed_files(name);
  } else {
    code->add_left_out("changed files: `git diff --name-only HEAD` failed");
  }
  const std::string untracked = run_git(root, "ls-files --others --exclude-standard -z", &ok);
  if (ok) {
    const auto names = nul_separated(untracked);
    for (std::size_t i = 0; i < names.size() && i < kMaxUntrackedListed; ++i) code->add_untracked_files(names[i]);
    if (names.size() > kMaxUntrackedListed) {
      code->add_left_out("untracked files: " + std::to_string(names.size() - kMaxUntrackedListed) + " more not listed");
    }
  } else {
    code->add_left_out("untracked files: `git ls-files --others` failed");
  }
  if (patch == nullptr) return;
  std::vector<std::string> left_out;
  *patch = capped_patch(split_diff(diff), limit, &left_out);
  for (const auto& l : left_out) code->add_left_out(l);
  if (!patch->empty()) code->set_patch(kCodePatchFile);
}

bool write_code_patch(const std::string& run_dir, const std::string& patch, proto::CodeIdentity* code) {
  try {
    write_file_atomic(run_dir + "/" + kCodePatchFile, patch);
    return true;
  } catch (const Error& e) {
    spdlog::warn("cannot keep the uncommitted changes in the run directory: {}", e.what());
    code->clear_patch();
    code->add_left_out(std::string("the whole patch: cannot write ") + kCodePatchFile + ": " + e.what());
    return false;
  }
}

std::string read_code_patch(const std::string& run_dir, const proto::CodeIdentity& code) {
  if (code.patch().empty()) return "";
  const std::string path = run_dir + "/" + code.patch();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return "";
  try {
    return read_whole_file(path);
  } catch (const Error&) {
    return "";
  }
}

std::optional<std::vector<std::string>> files_changed_between(const std::string& root, const std::string& a,
                                                              const std::string& b) {
  const auto is_commit = [](const std::string& c) {
    return !c.empty() &&
           std::all_of(c.begin(), c.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)) != 0; });
  };
  if (root.empty() || !is_commit(a) || !is_commit(b)) return std::nullopt;
  bool ok = false;
  const std::string out = run_git(root, "diff --name-only -z --no-renames --no-relative " + a + " " + b, &ok);
  if (!ok) return std::nullopt;
  auto names = nul_separated(out);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> files_patched_differently(std::string_view a, std::string_view b,
                                                   const std::vector<std::string>& left_out) {
  std::map<std::string, std::pair<std::string, std::string>> parts;
  for (const auto& f : split_diff(a)) parts[f.path].first = digest_bytes(f.text);
  for (const auto& f : split_diff(b)) parts[f.path].second = digest_bytes(f.text);
  std::vector<std::string> names;
  for (const auto& [name, digests] : parts) {
    if (digests.first == digests.second) continue;
    if (std::find(left_out.begin(), left_out.end(), name) != left_out.end()) continue;
    names.push_back(name.empty() ? "(preamble)" : name);
  }
  return names;
}

std::vector<std::string> left_out_paths(const proto::CodeIdentity& code) {
  std::vector<std::string> paths;
  for (const auto& l : code.left_out()) {
    if (const auto colon = l.rfind(": "); colon != std::string::npos) paths.push_back(l.substr(0, colon));
  }
  return paths;
}

std::string changed_files_text(const proto::CodeIdentity& a, const proto::CodeIdentity& b) {
  const std::vector<std::string> fa(a.changed_files().begin(), a.changed_files().end());
  const std::vector<std::string> fb(b.changed_files().begin(), b.changed_files().end());
  if (fa == fb) return fa.empty() ? "other changes" : "other changes to " + some_names(fa);
  return "A changed " + (fa.empty() ? std::string("nothing") : some_names(fa)) + "; B changed " +
         (fb.empty() ? std::string("nothing") : some_names(fb));
}

std::vector<std::string> work_tree_drift(const proto::CodeIdentity& recorded, const std::string& recorded_patch) {
  if (!recorded.git_dirty() || recorded.git_root().empty()) return {};
  const std::string& root = recorded.git_root();
  bool ok = false;
  const std::string commit(trim(run_git(root, "rev-parse HEAD", &ok)));
  if (!ok) {
    return {"the run's work tree " + root +
            " is no longer a git work tree: cannot check that its uncommitted changes are still there"};
  }
  if (commit != recorded.git_commit()) {
    return {"the work tree " + root + " is at commit " + commit + ", the run was made at " + recorded.git_commit() +
            " with uncommitted changes (`repro show` says how to restore them)"};
  }
  if (recorded.patch_xxh3().empty()) return {};  // recorded before patches were kept
  const std::string diff = work_tree_diff(root, &ok);
  if (!ok || digest_bytes(diff) == recorded.patch_xxh3()) return {};
  std::vector<std::string> files;
  if (!recorded_patch.empty()) files = files_patched_differently(recorded_patch, diff, left_out_paths(recorded));
  std::string what;
  if (!files.empty()) {
    what = "other changes in " + some_names(files);
  } else {
    std::vector<std::string> now;
    for (const auto& f : split_diff(diff)) now.push_back(f.path);
    what = "the patch differs" +
           (now.empty() ? std::string(" (none now)") : " (files changed now: " + some_names(now) + ")");
  }
  return {"the work tree " + root + " no longer matches the run's uncommitted changes (" + kCodePatchFile +
          "): " + what};
}

std::string some_names(const std::vector<std::string>& names, std::size_t shown) {
  if (names.size() <= shown) return join(names, ", ");
  const std::vector<std::string> first(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(shown));
  return join(first, ", ") + " and " + std::to_string(names.size() - shown) + " more";
}

}  // namespace repro::internal
