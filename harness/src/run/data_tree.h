// Private: walking a data directory and the digest cache behind repro/data.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repro/data.h"

namespace repro::internal {

// One regular file found under a root: its path relative to the root ('/'-separated) and the
// path to open.
struct TreeFile {
  std::string relative;
  std::string path;
};

// Every regular file under `root` (symbolic links to files followed, to directories not;
// FIFOs, sockets and devices skipped without being opened), sorted bytewise by relative path.
// Throws Error (input) naming a directory that cannot be listed.
std::vector<TreeFile> walk_tree(const std::string& root);

// The cache directory DigestOptions names (see repro/data.h); empty when the cache is off.
std::string digest_cache_dir(const DigestOptions& options);

// "1,234,567".
std::string with_thousands(std::int64_t n);

}  // namespace repro::internal
