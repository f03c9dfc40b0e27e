// Private: digests of several files at once (the data files of a run, a data directory's
// files), read by several threads; each is digest_file's XXH3-128 (repro/digest.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repro::internal {

struct FileDigest {
  std::string xxh3;
  std::uint64_t size = 0;
};

// The digests of `paths`, in their order, read by up to min(hardware threads, 8, paths) threads
// at once. Throws the Error (input) digest_file throws for the first path, in the order given,
// that cannot be read (every thread has stopped by then).
std::vector<FileDigest> digest_files(const std::vector<std::string>& paths);

}  // namespace repro::internal
