// Private: facts about a run that are not numerics: who and what made it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/environment.pb.h"
#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"

namespace repro::internal {

// Git commit, dirty flag (tracked files only) and root of the work tree holding `dir`, plus the
// executable's path and digest from `env`. Outside a work tree the git fields stay empty. When
// the tree is dirty and `patch` is given, also the uncommitted change (run/code_patch.h,
// capture_patch): its fields, and in *patch the bytes of the patch file, capped at
// `patch_limit`; *patch is emptied otherwise. Never throws for a git failure.
proto::CodeIdentity capture_code_identity(const std::string& dir, const proto::Environment& env,
                                          std::uint64_t patch_limit = 0, std::string* patch = nullptr);

// This process's argv, from /proc/self/cmdline.
std::vector<std::string> process_argv();

// Current working directory; empty if it cannot be read.
std::string current_dir();

// "2026-11-25T13:45:07Z"; and a run id "20261125-134507-<name>-<6 hex>", where <name> is
// `name` with every character but [A-Za-z0-9_-] made '_', cut to kRunIdNameMax characters.
inline constexpr std::size_t kRunIdNameMax = 64;
std::string utc_now_rfc3339();
std::string make_run_id(const std::string& name);

// One file's role, path, size and XXH3-128. Throws Error (input) naming it when unreadable.
proto::InputFile fingerprint_file(const std::string& role, const std::string& path);

// File digests of the config's data files (models/data: data_files()).
std::vector<proto::InputFile> fingerprint_data_files(const proto::DataConfig& data);

}  // namespace repro::internal
