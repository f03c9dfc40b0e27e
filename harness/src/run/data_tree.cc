// The data tracker's digests (repro/data.h): walking a tree, the digest cache, manifest diffs.
#include "run/data_tree.h"

#include <dirent.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "proto/data_manifest.pb.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/file_digests.h"
#include "util/fileutil.h"
#include "util/input_file.h"
#include "util/strings.h"

namespace repro {
namespace internal {
namespace {

namespace fs = std::filesystem;

void walk_into(const std::string& dir, const std::string& prefix, std::vector<TreeFile>& out) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) throw Error::input(dir + ": cannot list directory: " + std::strerror(errno));
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    struct stat link {};
    if (lstat(path.c_str(), &link) != 0) continue;  // gone since it was listed
    if (S_ISDIR(link.st_mode)) {
      walk_into(path, prefix + name + "/", out);
      continue;
    }
    // A link is followed only to a regular file; anything else is never opened (util/input_file.h).
    if (is_readable_kind(path)) {
      out.push_back({prefix + name, path});
    } else {
      spdlog::debug("data: {} left out (not a regular file)", path);
    }
  }
}

void u64_le(std::uint64_t v, unsigned char out[8]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(v >> (8 * i));
}

// The cache of one root: its file, the entries read from it, and what this digest used.
std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

class RootCache {
 public:
  RootCache(const std::string& dir, const std::string& root, bool rehash) : rehash_(rehash) {
    if (dir.empty()) return;
    file_ = dir + "/" + digest_bytes(root) + ".pb";
    struct stat st {};
    if (stat(file_.c_str(), &st) != 0) return;  // none yet
    proto::DigestCache cache;
    try {
      if (!S_ISREG(st.st_mode) || !cache.ParseFromString(read_whole_file(file_))) {
        spdlog::warn("digest cache {} is unreadable; digesting the files", file_);
        return;
      }
    } catch (const Error& e) {
      spdlog::warn("digest cache unreadable ({}); digesting the files", e.what());
      return;
    }
    for (auto& entry : *cache.mutable_entries()) old_.emplace(entry.path(), std::move(entry));
  }

  // The cached digest of the file when its key is unchanged (and not rehashing); empty when its
  // bytes must be read.
  std::string cached(const std::string& absolute, const struct stat& st) const {
    if (rehash_) return "";
    const auto it = old_.find(absolute);
    if (it == old_.end()) return "";
    const proto::DigestCacheEntry& e = it->second;
    return e.size() == static_cast<std::uint64_t>(st.st_size) && e.mtime_ns() == mtime_ns(st) &&
                   e.inode() == st.st_ino && e.device() == st.st_dev
               ? e.xxh3()
               : "";
  }

  // Keeps the file's digest for this digest's cache; `read`: its bytes were read.
  void store(const std::string& absolute, const struct stat& st, const std::string& xxh3, bool read) {
    proto::DigestCacheEntry& entry = now_.emplace_back();
    entry.set_path(absolute);
    entry.set_size(static_cast<std::uint64_t>(st.st_size));
    entry.set_mtime_ns(mtime_ns(st));
    entry.set_inode(st.st_ino);
    entry.set_device(st.st_dev);
    entry.set_xxh3(xxh3);
    changed_ = changed_ || read;
  }

  // Writes the entries of this digest (only those) when anything differs from the file's.
  void save() {
    if (file_.empty() || (!changed_ && now_.size() == old_.size())) return;
    proto::DigestCache cache;
    cache.set_schema_version(1);
    for (auto& e : now_) *cache.add_entries() = std::move(e);
    try {
      fs::create_directories(fs::path(file_).parent_path());
      write_file_atomic(file_, cache.SerializeAsString());
    } catch (const std::exception& e) {
      spdlog::warn("digest cache not written ({})", e.what());
    }
  }

 private:
  bool rehash_;
  std::string file_;
  std::unordered_map<std::string, proto::DigestCacheEntry> old_;
  std::vector<proto::DigestCacheEntry> now_;
  bool changed_ = false;
};

}  // namespace

std::vector<TreeFile> walk_tree(const std::string& root) {
  std::vector<TreeFile> out;
  walk_into(root, "", out);
  std::sort(out.begin(), out.end(), [](const TreeFile& a, const TreeFile& b) { return a.relative < b.relative; });
  return out;
}

std::string digest_cache_dir(const DigestOptions& options) {
  std::string dir = options.cache_dir;
  if (dir.empty()) {
    if (const char* v = std::getenv(kEnvDigestCache); v != nullptr && *v != '\0') dir = v;
  }
  if (dir.empty()) {
    if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
      dir = std::string(xdg) + "/reprotorch";
    } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
      dir = std::string(home) + "/.cache/reprotorch";
    }
  }
  return dir == "off" ? "" : dir;
}

std::string with_thousands(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace internal

PathDigest digest_path(const std::string& path, const DigestOptions& options) {
  namespace fs = std::filesystem;
  struct stat st {};
  if (path.empty()) throw Error::input("data path is empty");
  if (stat(path.c_str(), &st) != 0) throw Error::input(path + ": cannot track data: " + std::strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    throw Error::input(path + ": cannot track data: not a regular file or directory");
  }
  std::error_code ec;
  const std::string absolute = fs::absolute(path, ec).lexically_normal().string();
  PathDigest d;
  d.absolute_path = absolute.size() > 1 && absolute.back() == '/' ? absolute.substr(0, absolute.size() - 1) : absolute;
  internal::RootCache cache(internal::digest_cache_dir(options), d.absolute_path,
                            options.rehash || internal::env_flag(internal::kEnvRehash));
  if (S_ISREG(st.st_mode)) {
    d.xxh3 = cache.cached(d.absolute_path, st);
    const bool read = d.xxh3.empty();
    if (read) {
      d.xxh3 = digest_file(d.absolute_path);
      d.files_read = 1;
    }
    cache.store(d.absolute_path, st, d.xxh3, read);
    d.size = static_cast<std::uint64_t>(st.st_size);
    d.file_count = 1;
    cache.save();
    return d;
  }
  d.directory = true;
  d.manifest.set_schema_version(kDataManifestSchemaVersion);
  d.manifest.set_root(d.absolute_path);
  // Stat every file and take what the cache knows; then read the rest in parallel.
  const std::vector<internal::TreeFile> files = internal::walk_tree(d.absolute_path);
  std::vector<struct stat> stats(files.size());
  std::vector<std::string> to_read;
  std::vector<std::size_t> read_index;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (stat(files[i].path.c_str(), &stats[i]) != 0) {
      throw Error::input(files[i].path + ": cannot stat: " + std::strerror(errno));
    }
    auto* e = d.manifest.add_entries();
    e->set_path(internal::escape_invalid_utf8(files[i].relative));  // a manifest must read back: UTF-8
    e->set_xxh3(cache.cached(files[i].path, stats[i]));
    e->set_size(static_cast<std::uint64_t>(stats[i].st_size));
    d.size += e->size();
    if (e->xxh3().empty()) {
      to_read.push_back(files[i].path);
      read_index.push_back(i);
    }
  }
  const std::vector<internal::FileDigest> read = internal::digest_files(to_read);
  for (std::size_t k = 0; k < read.size(); ++k)
    d.manifest.mutable_entries(static_cast<int>(read_index[k]))->set_xxh3(read[k].xxh3);
  d.files_read = static_cast<std::int64_t>(read.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    cache.store(files[i].path, stats[i], d.manifest.entries(static_cast<int>(i)).xxh3(), !read.empty());
  }
  d.file_count = d.manifest.entries_size();
  d.xxh3 = manifest_digest(d.manifest);
  cache.save();
  return d;
}

std::string manifest_digest(const proto::DataManifest& manifest) {
  Hasher h;
  unsigned char buf[8];
  for (const auto& e : manifest.entries()) {
    internal::u64_le(e.path().size(), buf);
    h.update(buf, 8);
    h.update(e.path());
    internal::u64_le(e.size(), buf);
    h.update(buf, 8);
    h.update(e.xxh3());
  }
  return h.hex_digest();
}

ManifestDiff diff_manifests(const proto::DataManifest& a, const proto::DataManifest& b) {
  std::map<std::string, const proto::ManifestEntry*> in_a;
  for (const auto& e : a.entries()) in_a[e.path()] = &e;
  ManifestDiff d;
  auto note = [](std::int64_t& count, std::vector<std::string>& names, const std::string& name) {
    if (++count <= ManifestDiff::kNamesKept) names.push_back(name);
  };
  std::map<std::string, const proto::ManifestEntry*> in_b;
  for (const auto& e : b.entries()) in_b[e.path()] = &e;
  for (const auto& [path, e] : in_b) {
    const auto it = in_a.find(path);
    if (it == in_a.end()) {
      note(d.added, d.added_names, path);
    } else if (it->second->size() != e->size() || it->second->xxh3() != e->xxh3()) {
      note(d.changed, d.changed_names, path);
    }
  }
  for (const auto& [path, e] : in_a) {
    if (in_b.count(path) == 0) note(d.removed, d.removed_names, path);
  }
  return d;
}

std::string describe_diff(const std::string& what, const ManifestDiff& diff) {
  using internal::with_thousands;
  std::string counts, names;
  auto part = [&](std::int64_t n, const char* verb, const std::vector<std::string>& list) {
    if (n == 0) return;
    counts +=
        (counts.empty() ? with_thousands(n) + (n == 1 ? " file " : " files ") : ", " + with_thousands(n) + " ") + verb;
    std::string shown;
    for (const auto& name : list) shown += (shown.empty() ? "" : ", ") + name;
    if (n > static_cast<std::int64_t>(list.size())) shown += ", ...";
    names += (names.empty() ? "" : "; ") + std::string(verb) + ": " + shown;
  };
  part(diff.added, "added", diff.added_names);
  part(diff.removed, "removed", diff.removed_names);
  part(diff.changed, "changed", diff.changed_names);
  if (counts.empty()) return what + ": no file changed";
  return what + ": " + counts + " (" + names + ")";
}

proto::DataManifest read_manifest(const std::string& path) {
  proto::DataManifest m;
  if (!m.ParseFromString(internal::read_whole_file(path, "data manifest"))) {
    throw Error::input(path + ": not a data manifest (cannot parse)");
  }
  return m;
}

}  // namespace repro
