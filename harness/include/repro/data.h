// repro/data.h: digests of data files and whole directories, the digest cache that keeps large
// trees fast, and what changed between two digests of a directory.
//
// A directory is digested as its manifest (proto/data_manifest.proto): every regular file under
// it, recursively, as its path relative to the directory ('/'-separated, sorted bytewise), its
// size and the XXH3-128 of its bytes. Symbolic links to files are followed (the target's bytes
// are digested under the link's path); symbolic links to directories are not followed (no
// loops) and are left out, as are FIFOs, sockets and devices, which are never opened. The
// directory's digest is manifest_digest() of that list (layout below), so it changes when a
// file is added, removed, renamed or changed, and it is the same on every machine for the same
// files.
//
// The digest cache (DVC-style). Reading every byte of a 60,000-file tree or a 1 GB file at
// every start is slow, so a file whose (absolute path, size, mtime in ns, inode, device) is the
// same as when it was last digested is not read again: its recorded XXH3 is used. The cache
// lives in the directory REPRO_DIGEST_CACHE names (default $XDG_CACHE_HOME/reprotorch, else
// ~/.cache/reprotorch; "off" disables it), one DigestCache file per digested root, replaced
// atomically; a cache that cannot be read or written is a warning, never an error, and the
// files are then read.
// Its risk: a change that keeps the size, the mtime and the inode is not seen (a tool that
// rewrites a file in place and restores its mtime, `touch -r`, a clock set back, a file
// system with coarse timestamps written twice in one tick). `--rehash` (REPRO_REHASH=1,
// SessionOptions::rehash, DigestOptions::rehash) reads every file again; the cache is then
// refreshed with what was read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/data_manifest.pb.h"

namespace repro {

inline constexpr std::uint32_t kDataManifestSchemaVersion = 1;

struct DigestOptions {
  // Read every file, ignoring the cache (its entries are still refreshed). Default: off, unless
  // REPRO_REHASH=1 is set in the environment (read when the digest is taken).
  bool rehash = false;
  // The cache directory; empty: REPRO_DIGEST_CACHE, else the default above; "off": no cache.
  std::string cache_dir;
};

// A file's or a directory's digest.
struct PathDigest {
  bool directory = false;
  std::string absolute_path;
  std::uint64_t size = 0;        // a directory: all its files' bytes
  std::string xxh3;              // a file: of its bytes; a directory: manifest_digest(manifest)
  std::int64_t file_count = 0;   // a directory: entries in the manifest; a file: 1
  proto::DataManifest manifest;  // a directory only
  std::int64_t files_read = 0;   // files whose bytes were read (the others came from the cache)
};

// Digests `path` (a regular file, a symbolic link to one, or a directory). Throws Error (input)
// naming the path when it does not exist, is another kind of file (FIFO, socket, device), or
// when it or a file under it cannot be read ("<file>: cannot open: Permission denied").
PathDigest digest_path(const std::string& path, const DigestOptions& options = {});

// The digest of a directory: XXH3-128 over, for each entry in order,
//   u64 LE byte length of path | path bytes | u64 LE size | the 32 hex digits of xxh3
// (no separator, nothing before or after); an empty directory digests as zero bytes.
std::string manifest_digest(const proto::DataManifest& manifest);

// What changed from manifest `a` to manifest `b`, by relative path.
struct ManifestDiff {
  std::int64_t added = 0, removed = 0, changed = 0;  // changed: same path, other size or digest
  // The first few paths of each (sorted), at most kNamesKept each.
  static constexpr int kNamesKept = 3;
  std::vector<std::string> added_names, removed_names, changed_names;
  bool empty() const { return added == 0 && removed == 0 && changed == 0; }
};
ManifestDiff diff_manifests(const proto::DataManifest& a, const proto::DataManifest& b);

// One line: "data/train: 2,000 files added, 1 changed" (thousands separators; counts that are
// zero left out; "no file changed" when empty), then the first names of each kind:
// " (added: a.png, b.png, ...; changed: labels.csv)".
std::string describe_diff(const std::string& what, const ManifestDiff& diff);

// Reads a DataManifest file (written by a Session into its run directory). Throws Error (input)
// naming the file when it cannot be read or parsed.
proto::DataManifest read_manifest(const std::string& path);

}  // namespace repro
