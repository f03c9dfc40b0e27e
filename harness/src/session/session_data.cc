// Session: tracked data. track_data() for what a program names, and the command line's paths
// (SessionOptions::track_argv) at the start of a new run. Directories keep their manifest in the
// run directory (data/<role>.manifest.pb) so that a rerun or a compare can name what changed.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>

#include "repro/data.h"
#include "repro/error.h"
#include "repro/session.h"
#include "session/session_impl.h"
#include "util/fileutil.h"
#include "util/strings.h"

namespace repro {
namespace {

namespace fs = std::filesystem;

// "argv[1]" -> "argv-1": a file name for a role.
std::string file_stem(const std::string& role) {
  std::string out;
  for (const char c : role) {
    const bool plain =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (plain) {
      out += c;
    } else if (out.empty() || out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  return out.empty() ? "data" : out;
}

// A manifest file name under the run directory that no other input of `data` uses.
std::string manifest_name(const proto::DataFingerprint& data, const std::string& role) {
  const std::string stem = "data/" + file_stem(role);
  for (int n = 1;; ++n) {
    const std::string name = stem + (n == 1 ? "" : "-" + std::to_string(n)) + ".manifest.pb";
    bool used = false;
    for (const auto& f : data.files()) used = used || f.manifest() == name;
    if (!used) return name;
  }
}

// The InputFile of a digest; for a directory, its manifest written into `run_dir`.
proto::InputFile record_input(const std::string& path, const std::string& role, const PathDigest& d,
                              proto::TrackedBy by, const std::string& run_dir, const proto::DataFingerprint& data) {
  proto::InputFile in;
  in.set_role(role);
  in.set_path(path);
  in.set_absolute_path(d.absolute_path);
  in.set_size(d.size);
  in.set_xxh3(d.xxh3);
  in.set_tracked_by(by);
  if (d.directory) {
    in.set_directory(true);
    in.set_file_count(d.file_count);
    in.set_manifest(manifest_name(data, role));
    const fs::path file = fs::path(run_dir) / in.manifest();
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw Error::io(file.parent_path().string() + ": cannot create: " + ec.message());
    internal::write_file_atomic(file.string(), d.manifest.SerializeAsString());
  }
  return in;
}

fs::path normal_absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path, ec).lexically_normal();
  return p;
}

// `inner` is `outer` or below it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

void Session::Impl::track_command_line() {
  const std::string runs = options.runs_dir.empty() ? config.record().runs_dir() : options.runs_dir;
  const fs::path run_dir = normal_absolute(writer->dir());
  // Outputs of the run, never its data: the run directory, the runs directory, and the one
  // holding the run directory (launchers choose it) unless that is the working directory or
  // above it.
  std::vector<fs::path> outputs = {run_dir};
  if (!within(normal_absolute("."), run_dir.parent_path())) outputs.push_back(run_dir.parent_path());
  if (!runs.empty()) outputs.push_back(normal_absolute(runs));
  bool added = false;
  for (int i = 1; i < header.argv_size(); ++i) {
    std::string path = header.argv(i);
    if (path.rfind("--", 0) == 0 && path.find('=') != std::string::npos) path = path.substr(path.find('=') + 1);
    struct stat st {};
    if (path.empty() || stat(path.c_str(), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) continue;
    const fs::path p = normal_absolute(path);
    // The root and the kernel's pseudo-filesystems are never data; some of their files block when read.
    bool skip = p == p.root_path();
    for (const char* pseudo : {"/proc", "/sys", "/dev"}) skip = skip || within(p, pseudo);
    for (const auto& out : outputs) skip = skip || within(p, out) || within(out, p);
    for (const auto& f : header.data().files())
      skip = skip || (!f.absolute_path().empty() && f.absolute_path() == p.string());
    if (skip) {
      spdlog::debug("argv[{}] {}: not tracked (the runs directory, or already tracked)", i, path);
      continue;
    }
    const std::string role = "argv[" + std::to_string(i) + "]";
    try {
      DigestOptions digest;
      digest.rehash = options.rehash;
      const PathDigest d = digest_path(path, digest);
      *header.mutable_data()->add_files() =
          record_input(path, role, d, proto::TRACKED_BY_ARGV, writer->dir(), header.data());
      added = true;
    } catch (const Error& e) {
      spdlog::warn("{} not tracked as data: {}", role, e.what());
    }
  }
  if (added) write_header();
}

void Session::track_data(const std::string& path, const std::string& role) {
  auto& s = *impl_;
  if (role.empty()) throw Error::usage("track_data: empty role for " + path);
  for (const std::string* text : {&path, &role}) {
    if (!internal::is_valid_utf8(*text)) {
      throw Error::usage("track_data: \"" + internal::escape_invalid_utf8(*text) +
                         "\" is not valid UTF-8; a run record keeps its text as UTF-8");
    }
  }
  if (s.ended) throw Error::usage("track_data: the run has ended");
  DigestOptions digest;
  digest.rehash = s.options.rehash;
  const PathDigest d = digest_path(path, digest);
  auto* files = s.header.mutable_data()->mutable_files();
  int from_argv = -1;
  for (int i = 0; i < files->size(); ++i) {
    const auto& f = files->Get(i);
    if (f.role() == role) {
      if (s.resumed && f.absolute_path() == d.absolute_path) {
        // The continued run tracks it again: the recorded digest stays, a change is named.
        if (f.xxh3() != d.xxh3) spdlog::warn("resume: data {} ({}) changed since the run started", role, path);
        return;
      }
      throw Error::usage("track_data: role \"" + role + "\" is already tracked (" + f.path() + ")");
    }
    if (f.tracked_by() == proto::TRACKED_BY_ARGV && f.absolute_path() == d.absolute_path) from_argv = i;
  }
  if (from_argv >= 0) {
    // Taken over under the program's role: a change in it now refuses a rerun.
    const std::string old_manifest = files->Get(from_argv).manifest();
    files->DeleteSubrange(from_argv, 1);
    if (!old_manifest.empty()) {
      std::error_code ec;
      fs::remove(fs::path(s.writer->dir()) / old_manifest, ec);
    }
  }
  *files->Add() = record_input(path, role, d, proto::TRACKED_BY_SESSION, s.writer->dir(), s.header.data());
  s.write_header();
}

}  // namespace repro
