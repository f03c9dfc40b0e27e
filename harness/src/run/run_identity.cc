#include "run/run_identity.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>

#include "repro/digest.h"
#include "run/builtins.h"
#include "run/code_patch.h"
#include "util/file_digests.h"
#include "util/strings.h"

namespace repro::internal {

proto::CodeIdentity capture_code_identity(const std::string& dir, const proto::Environment& env,
                                          std::uint64_t patch_limit, std::string* patch) {
  proto::CodeIdentity code;
  code.set_executable_path(env.identity().executable_path());
  code.set_executable_xxh3(env.identity().executable_xxh3());
  if (patch != nullptr) patch->clear();
  bool ok = false;
  const std::string head(internal::trim(run_git(dir, "rev-parse --show-toplevel HEAD", &ok)));
  if (!ok) return code;
  const auto nl = head.find('\n');
  if (nl == std::string::npos) return code;
  code.set_git_root(head.substr(0, nl));
  code.set_git_commit(head.substr(nl + 1));
  const std::string status = run_git(dir, "status --porcelain --untracked-files=no", &ok);
  code.set_git_dirty(ok && !status.empty());
  if (code.git_dirty() && patch != nullptr) capture_patch(code.git_root(), patch_limit, &code, patch);
  return code;
}

std::vector<std::string> process_argv() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  return argv;
}

std::string current_dir() {
  std::array<char, 4096> buf{};
  return getcwd(buf.data(), buf.size()) != nullptr ? std::string(buf.data()) : std::string();
}

std::string utc_now_rfc3339() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string make_run_id(const std::string& name) {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::random_device rd;  // naming only; never a training RNG
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
  std::string clean;
  for (char c : name) clean += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  // A directory name has at most 255 bytes; with the stamp, the suffix and the temporary names
  // made beside it, a name of 64 characters leaves room (a longer config name is cut).
  if (clean.size() > kRunIdNameMax) clean.resize(kRunIdNameMax);
  return std::string(stamp) + "-" + (clean.empty() ? "run" : clean) + "-" + suffix;
}

namespace {

proto::InputFile input_file(const std::string& role, const std::string& path, const FileDigest& digest) {
  proto::InputFile in;
  in.set_role(role);
  in.set_path(path);
  in.set_xxh3(digest.xxh3);
  in.set_size(digest.size);
  return in;
}

}  // namespace

proto::InputFile fingerprint_file(const std::string& role, const std::string& path) {
  FileDigest digest;
  digest.xxh3 = digest_file(path, &digest.size);
  return input_file(role, path, digest);
}

std::vector<proto::InputFile> fingerprint_data_files(const proto::DataConfig& data) {
  std::vector<proto::InputFile> files;
  const models::Builtins* built_in = find_builtins();
  if (built_in == nullptr) return files;  // no built-in source: a user program reads its own data
  const std::vector<models::DataFile> listed = built_in->data_files(data);
  std::vector<std::string> paths;
  for (const auto& f : listed) paths.push_back(f.path);
  const std::vector<FileDigest> digests = digest_files(paths);  // read in parallel
  for (std::size_t i = 0; i < listed.size(); ++i)
    files.push_back(input_file(listed[i].role, listed[i].path, digests[i]));
  return files;
}

}  // namespace repro::internal
