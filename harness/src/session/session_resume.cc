#include "session/session_resume.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <spdlog/spdlog.h>

#include "env/environment_diff.h"
#include "repro/checkpoint.h"
#include "repro/config.h"
#include "repro/data.h"
#include "repro/determinism.h"
#include "repro/error.h"
#include "run/run_identity.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

std::vector<std::string> data_differences(const proto::DataFingerprint& recorded, const proto::DataConfig& data) {
  std::vector<std::string> out;
  const auto now = fingerprint_data_files(data);
  // The config's files, in order; what a Session tracked (track_data, the command line) by path.
  std::vector<const proto::InputFile*> config_files;
  for (const auto& r : recorded.files()) {
    if (r.tracked_by() == proto::TRACKED_BY_CONFIG) {
      config_files.push_back(&r);
      continue;
    }
    std::string xxh3 = "(unreadable)";
    try {
      xxh3 = digest_path(r.absolute_path().empty() ? r.path() : r.absolute_path()).xxh3;
    } catch (const Error&) {
    }
    if (xxh3 != r.xxh3()) out.push_back("data " + r.role() + " " + r.path() + ": xxh3 " + r.xxh3() + " -> " + xxh3);
  }
  if (now.size() != config_files.size()) {
    out.push_back("data files: " + std::to_string(config_files.size()) + " -> " + std::to_string(now.size()));
    return out;
  }
  for (std::size_t i = 0; i < now.size(); ++i) {
    const auto& r = *config_files[i];
    if (r.xxh3() != now[i].xxh3())
      out.push_back("data file " + now[i].path() + ": xxh3 " + r.xxh3() + " -> " + now[i].xxh3());
  }
  return out;
}

// The model file (TorchScript) against its recorded digest; empty when unchanged or none.
std::vector<std::string> model_file_differences(const proto::InputFile& recorded) {
  if (recorded.path().empty()) return {};
  const auto now = fingerprint_file(recorded.role(), recorded.path());
  if (now.xxh3() == recorded.xxh3()) return {};
  return {"model file " + recorded.path() + ": xxh3 " + recorded.xxh3() + " -> " + now.xxh3()};
}

// An exclusive flock on <dir>/.resume.lock while a resume takes over the run: once the header
// says running with our pid, a second resume sees a live run; before that, this lock.
class ResumeLock {
 public:
  explicit ResumeLock(const std::string& dir) {
    const std::string path = dir + "/.resume.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error::input(path + ": cannot open: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw Error::usage(dir + ": another process is resuming this run");
    }
  }
  ~ResumeLock() { ::close(fd_); }
  ResumeLock(const ResumeLock&) = delete;
  ResumeLock& operator=(const ResumeLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

void check_resume_differences(const std::string& dir, const std::vector<std::string>& differences, bool strict) {
  if (!strict) {
    for (const auto& d : differences) spdlog::warn("resume: environment differs from the recorded run: {}", d);
  }
  if (strict && !differences.empty()) {  // one line that names them all
    throw Error::usage(
        dir + ": not resumed (--strict): the environment differs from the recorded run: " + join(differences, "; "));
  }
}

ReopenedRun reopen_run(const std::string& dir, const proto::RunConfig& requested, bool strict,
                       const AgreeOnStep& agree) {
  read_run(dir);  // a missing or corrupt run is an input error before anything is created in it
  const ResumeLock lock(dir);
  const RunData run = read_run(dir);
  if (run.status == proto::FINISHED) throw Error::usage(dir + ": nothing to resume: run finished");
  if (run.status == proto::RUNNING) {
    throw Error::usage(dir + ": the run is still running (pid " + std::to_string(run.header.pid()) + " on " +
                       run.header.hostname() + ")");
  }
  ReopenedRun r;
  r.header = run.header;
  r.config = run.header.config();
  resolve_config(&r.config);
  r.config.set_seed(run.header.seed());
  {
    proto::RunConfig other = requested;
    resolve_config(&other);
    other.set_seed(r.config.seed());
    *other.mutable_determinism() = r.config.determinism();
    if (config_digest(other) != config_digest(r.config)) {
      spdlog::warn("{}: the config given differs from the recorded one; the recorded config is used", dir);
    }
  }
  r.config.mutable_determinism()->set_intra_op_threads(requested.determinism().intra_op_threads());
  r.config.mutable_determinism()->set_inter_op_threads(requested.determinism().inter_op_threads());

  proto::ResumeEvent event;
  proto::Environment env;
  apply_determinism(r.config.determinism(), r.config.seed(), &env);
  auto differences = numerics_differences(run.header.environment(), env);
  for (auto& d : data_differences(run.header.data(), r.config.data())) differences.push_back(std::move(d));
  for (auto& d : model_file_differences(run.header.model().file())) differences.push_back(std::move(d));
  check_resume_differences(dir, differences, strict);

  const auto files = list_checkpoints(dir);
  // The newest checkpoint after at most `limit` steps that verifies; its step, 0 for none.
  const auto pick = [&](int64_t limit) -> int64_t {
    r.checkpoint_path.clear();
    r.checkpoint_payload.clear();
    r.counts = {};
    for (auto it = files.rbegin(); it != files.rend() && r.checkpoint_path.empty(); ++it) {
      if (it->step > limit) continue;
      try {
        std::string payload = read_checkpoint_file(it->path);
        const CheckpointCounts counts = read_checkpoint_counts(payload, it->path).second;
        if (counts.steps_recorded > static_cast<int64_t>(run.steps.size()) ||
            counts.evals_recorded > static_cast<int64_t>(run.evals.size())) {
          throw Error::input(it->path + ": checkpoint is ahead of the recorded steps (" +
                             std::to_string(counts.steps_recorded) + " > " + std::to_string(run.steps.size()) + ")");
        }
        r.checkpoint_path = it->path;
        r.checkpoint_payload = std::move(payload);
        r.counts = counts;
        return it->step;
      } catch (const Error& e) {
        const std::string why = e.what();
        if (std::find(event.skipped_checkpoints().begin(), event.skipped_checkpoints().end(), why) ==
            event.skipped_checkpoints().end()) {
          spdlog::warn("skipping checkpoint {}", why);
          event.add_skipped_checkpoints(why);
        }
      }
    }
    return 0;
  };
  int64_t step = pick(INT64_MAX);
  // The ranks of a job continue from one step: each offers its newest, all take the least,
  // and again until every rank holds a checkpoint of that step (or none has one).
  while (agree) {
    const auto [least, greatest] = agree(step);
    if (least == greatest) break;
    step = pick(least);
  }
  if (r.checkpoint_path.empty()) {
    spdlog::warn("{}: no valid checkpoint: starting again from step 0 in the same directory", dir);
  } else {
    spdlog::info("{}: resuming after step {} from {}", dir, r.counts.last_step, r.checkpoint_path);
  }
  const auto& c = r.counts;
  if (c.steps_recorded > 0) r.elapsed_s = run.steps[static_cast<std::size_t>(c.steps_recorded - 1)].elapsed_s();
  r.writer = RunWriter::reopen(dir, {c.steps_recorded, c.evals_recorded});

  auto& h = r.header;
  event.set_resumed_at(utc_now_rfc3339());
  event.set_from_step(c.steps_recorded);
  if (!r.checkpoint_path.empty()) event.set_checkpoint(r.checkpoint_path.substr(r.checkpoint_path.rfind('/') + 1));
  event.set_pid(getpid());
  event.set_hostname(env.os().hostname());
  for (const auto& d : differences) event.add_environment_differences(d);
  *event.mutable_environment() = env;
  event.set_previous_status(run.status);
  *h.add_resumes() = event;
  h.set_status(proto::RUNNING);
  h.clear_status_reason();
  h.clear_finished_at();
  h.clear_final_param_digest();
  h.set_pid(getpid());
  h.set_hostname(env.os().hostname());
  h.set_steps_completed(c.steps_recorded);
  h.clear_final_evals();
  for (int64_t i = 0; i < c.evals_recorded; ++i) {  // the latest of each split, as record_eval keeps them
    const auto& e = run.evals[static_cast<std::size_t>(i)];
    auto* evals = h.mutable_final_evals();
    for (int j = 0; j < evals->size(); ++j) {
      if (evals->Get(j).split() == e.split()) {
        evals->DeleteSubrange(j, 1);
        break;
      }
    }
    *evals->Add() = e;
  }
  r.writer->write_header(h);
  return r;
}

}  // namespace repro::internal
