#include "repro/record.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include "repro/error.h"
#include "run/record_stream.h"
#include "util/fileutil.h"
#include "util/input_file.h"

namespace repro {
namespace {

namespace fs = std::filesystem;
using internal::StreamWriter;

constexpr const char* kHeaderFile = "record.pb";
constexpr const char* kStepsFile = "steps.bin";
constexpr const char* kEvalsFile = "evals.bin";

std::string path_in(const std::string& dir, const char* name) { return (fs::path(dir) / name).string(); }

// "runs/a/" and "runs/a" name the same directory; the trailing slash would hide the name.
fs::path normalized(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p;
}

// The one rule for what makes a header a run: RunWriter always writes a schema_version and a
// run id, so a record without either is not a run (an empty or truncated file parses as one).
void validate_header(const proto::RunRecord& header, const std::string& path) {
  if (header.schema_version() == 0)
    throw Error::input(path + ": has no schema_version (not a run record, or truncated)");
  if (header.schema_version() > kRunRecordSchemaVersion) {
    throw Error::input(path + ": schema_version " + std::to_string(header.schema_version()) +
                       " is newer than this reader's (" + std::to_string(kRunRecordSchemaVersion) +
                       "); use a newer reprotorch");
  }
  if (header.run_id().empty()) throw Error::input(path + ": has no run id (not a run record, or truncated)");
}

proto::RunRecord read_header(const std::string& dir) {
  const std::string path = path_in(dir, kHeaderFile);
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error::input(dir + ": not a run directory (no record.pb)");
  const std::string data = internal::read_input_file(path, "run record", internal::kMaxTextInputBytes);
  if (data.empty()) throw Error::input(path + ": is empty (not a run record)");
  proto::RunRecord header;
  if (!header.ParseFromString(data)) throw Error::input(path + ": corrupt run record");
  validate_header(header, path);
  return header;
}

std::string this_hostname() {
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

// True when the header's process is known to be gone: same host, and no such pid.
bool process_is_gone(const proto::RunRecord& header) {
  if (header.hostname() != this_hostname()) return false;
  if (header.pid() <= 0 || header.pid() > INT_MAX) return true;
  const auto pid = static_cast<pid_t>(header.pid());
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // A killed process that its parent has not reaped yet is a zombie: it exists, but runs no more.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && (line[paren + 2] == 'Z' || line[paren + 2] == 'X');
}

// Renames `from` to `to` unless `to` exists (rename(2) would replace an empty directory).
bool rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST || errno == ENOTEMPTY) return false;
  if (errno != EINVAL && errno != ENOSYS) {
    throw Error::io("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  // A file system without RENAME_NOREPLACE: check, then rename (a narrow race remains).
  std::error_code ec;
  if (fs::exists(to, ec)) return false;
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw Error::io("cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return true;
}

// Writes the contents of a new run directory into `tmp` (which exists and is empty).
void assemble(const std::string& tmp, proto::RunRecord header) {
  header.set_schema_version(kRunRecordSchemaVersion);
  internal::write_file_atomic(path_in(tmp, kHeaderFile), header.SerializeAsString());
  const std::string empty_stream(internal::kStreamMagic);
  internal::write_file_atomic(path_in(tmp, kStepsFile), empty_stream);
  internal::write_file_atomic(path_in(tmp, kEvalsFile), empty_stream);
}

}  // namespace

struct RunWriter::Impl {
  explicit Impl(std::string d) : dir(std::move(d)), steps(path_in(dir, kStepsFile)), evals(path_in(dir, kEvalsFile)) {}
  std::string dir;
  StreamWriter steps;
  StreamWriter evals;
};

RunWriter::RunWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RunWriter::~RunWriter() {
  if (impl_->steps.failed() || impl_->evals.failed()) return;  // that failure was reported already
  try {
    flush();
  } catch (const std::exception& e) {
    spdlog::warn("{}: records since the last flush are lost: {}", impl_->dir, e.what());
  }
}

std::unique_ptr<RunWriter> RunWriter::create(const std::string& dir, proto::RunRecord header) {
  const fs::path target = normalized(dir);
  if (target.empty() || target.filename() == "." || target.filename() == "..") {
    throw Error::input("'" + dir + "': not a usable run directory name");
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(target, ec))) throw Error::input(dir + ": run directory already exists");
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  internal::make_directories(parent.string());

  const std::string tmp = (parent / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()))).string();
  fs::remove_all(tmp, ec);  // left by an earlier crash of a process with our pid
  if (::mkdir(tmp.c_str(), 0755) != 0) {
    throw Error::io(dir + ": cannot create the run directory: " + std::strerror(errno));
  }
  header.set_schema_version(kRunRecordSchemaVersion);
  try {
    assemble(tmp, header);
    if (!rename_no_replace(tmp, target.string())) throw Error::input(dir + ": run directory already exists");
    internal::fsync_dir(parent.string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return std::unique_ptr<RunWriter>(new RunWriter(std::make_unique<Impl>(target.string())));
}

std::unique_ptr<RunWriter> RunWriter::reopen(const std::string& dir, const Keep& keep) {
  read_header(dir);
  for (const auto& [name, limit] : {std::pair{kStepsFile, keep.steps}, std::pair{kEvalsFile, keep.evals}}) {
    const auto scan = internal::truncate_stream(path_in(dir, name));
    if (scan.torn) {
      spdlog::warn("{}: dropped a torn tail; {} complete record(s) kept", path_in(dir, name), scan.frames);
    }
    if (limit >= 0 && scan.frames > static_cast<std::size_t>(limit)) {
      internal::truncate_stream(path_in(dir, name), static_cast<std::size_t>(limit));
      spdlog::debug("{}: kept the first {} of {} record(s)", path_in(dir, name), limit, scan.frames);
    }
  }
  return std::unique_ptr<RunWriter>(new RunWriter(std::make_unique<Impl>(normalized(dir).string())));
}

void RunWriter::append_step(const proto::StepRecord& step) { impl_->steps.append(step); }

void RunWriter::append_eval(const proto::EvalRecord& eval) { impl_->evals.append(eval); }

void RunWriter::flush() {
  impl_->steps.flush();
  impl_->evals.flush();
}

void RunWriter::write_header(const proto::RunRecord& header) {
  flush();
  proto::RunRecord copy = header;
  copy.set_schema_version(kRunRecordSchemaVersion);
  internal::write_file_atomic(path_in(impl_->dir, kHeaderFile), copy.SerializeAsString());
}

const std::string& RunWriter::dir() const { return impl_->dir; }

RunData read_run(const std::string& dir) {
  RunData run;
  run.dir = dir;
  run.header = read_header(dir);
  auto steps = internal::read_stream<proto::StepRecord>(path_in(dir, kStepsFile));
  run.steps = std::move(steps.records);
  run.steps_torn = steps.scan.torn;
  auto evals = internal::read_stream<proto::EvalRecord>(path_in(dir, kEvalsFile));
  run.evals = std::move(evals.records);
  if (evals.scan.torn) spdlog::debug("{}: torn tail dropped", path_in(dir, kEvalsFile));

  run.status = run.header.status();
  run.status_reason = run.header.status_reason();
  if (run.status == proto::RUNNING && process_is_gone(run.header)) {
    run.status = proto::INTERRUPTED;
    run.status_reason = "process " + std::to_string(run.header.pid()) + " on " + run.header.hostname() +
                        " is gone (killed?); steps up to the last flush are kept";
  }
  return run;
}

std::vector<std::string> list_runs(const std::string& runs_dir) {
  std::error_code ec;
  if (!fs::exists(runs_dir, ec)) return {};
  fs::directory_iterator it(runs_dir, ec);
  if (ec) throw Error::input(runs_dir + ": cannot list: " + ec.message());
  std::vector<std::pair<std::string, std::string>> found;  // (started_at, path)
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error::input(runs_dir + ": cannot list: " + ec.message());
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_directory(ec)) continue;
    if (!fs::exists(it->path() / kHeaderFile, ec)) continue;
    try {
      found.emplace_back(read_header(it->path().string()).started_at(), it->path().string());
    } catch (const Error& e) {
      spdlog::warn("skipping {}", e.what());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> runs;
  for (auto& f : found) runs.push_back(std::move(f.second));
  return runs;
}

std::string status_name(proto::RunStatus status) {
  switch (status) {
    case proto::RUNNING:
      return "running";
    case proto::FINISHED:
      return "finished";
    case proto::FAILED:
      return "failed";
    case proto::INTERRUPTED:
      return "interrupted";
    default:
      return "unspecified";
  }
}

}  // namespace repro
