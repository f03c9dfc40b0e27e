// Checkpoint files: framing, atomic writes, listing and pruning (format in repro/checkpoint.h).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>

#include "repro/checkpoint.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "util/fileutil.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "RPRCKPT1";

// "ckpt-00000010.ckpt" → 10; anything else → nullopt.
std::optional<int64_t> step_of(const std::string& name) {
  constexpr std::string_view prefix = "ckpt-", suffix = ".ckpt";
  if (name.size() <= prefix.size() + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return std::nullopt;
  }
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 18) {
    return std::nullopt;
  }
  return std::stoll(digits);
}

}  // namespace

std::string checkpoint_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }

std::string checkpoint_path(const std::string& run_dir, int64_t step) {
  char name[40];
  std::snprintf(name, sizeof name, "ckpt-%08lld.ckpt", static_cast<long long>(step));
  return (fs::path(checkpoint_dir(run_dir)) / name).string();
}

std::vector<CheckpointFile> list_checkpoints(const std::string& run_dir) {
  const std::string dir = checkpoint_dir(run_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {};
  fs::directory_iterator it(dir, ec);
  if (ec) throw Error::input(dir + ": cannot list: " + ec.message());
  std::vector<CheckpointFile> files;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error::input(dir + ": cannot list: " + ec.message());
    if (!it->is_regular_file(ec)) continue;  // a directory or device by a checkpoint's name is none
    if (const auto step = step_of(it->path().filename().string())) files.push_back({it->path().string(), *step});
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return files;
}

void write_checkpoint_file(const std::string& run_dir, int64_t step, const std::string& payload, int keep) {
  const std::string dir = checkpoint_dir(run_dir);
  std::error_code ec;
  if (fs::create_directories(dir, ec)) internal::fsync_dir(run_dir);  // the new directory is durable
  if (ec) throw Error::io(dir + ": cannot create directory: " + ec.message());
  internal::write_file_atomic(checkpoint_path(run_dir, step), internal::frame_payload(kMagic, payload));

  const auto files = list_checkpoints(run_dir);
  const std::size_t kept = static_cast<std::size_t>(std::max(keep, 1));
  for (std::size_t i = 0; i + kept < files.size(); ++i) {
    if (!fs::remove(files[i].path, ec) && ec)
      spdlog::warn("{}: cannot delete old checkpoint: {}", files[i].path, ec.message());
  }
}

std::string read_checkpoint_file(const std::string& path) {
  return internal::unframe_payload(internal::read_whole_file(path), kMagic, path, "checkpoint");
}

}  // namespace repro
