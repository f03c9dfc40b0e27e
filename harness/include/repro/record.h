// repro/record.h: run directories — writing them crash-safely and reading them back.
//
// Layout of a run directory (see proto/run_record.proto and proto/README.md):
//   record.pb   RunRecord header, binary; written atomically (temporary name, fsync, rename)
//   steps.bin   framed stream of StepRecord
//   evals.bin   framed stream of EvalRecord
//   run.log     the run's log (written by the Session, not by this module)
//   code.patch  a dirty work tree's `git diff HEAD --binary`, capped (Session; CodeIdentity.patch)
//
// A crash loses at most the records appended since the last flush(); whatever was flushed
// reads back, and a torn last frame is dropped, never misread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/run_record.pb.h"

namespace repro {

// Current layout version of RunRecord, written into every header's schema_version.
inline constexpr unsigned kRunRecordSchemaVersion = 1;

class RunWriter {
 public:
  // Creates the run directory `dir` with `header` (its schema_version is set) and empty
  // streams. The directory appears complete or not at all: it is assembled under a temporary
  // name beside `dir` and renamed. The parent directory is created if needed.
  // Throws Error (input) when `dir` already exists or cannot be created.
  static std::unique_ptr<RunWriter> create(const std::string& dir, proto::RunRecord header);

  // How many records of each stream RunWriter::reopen keeps; -1: every complete one.
  struct Keep {
    int64_t steps = -1;
    int64_t evals = -1;
  };

  // Reopens an existing run directory for appending (resume). Streams are first truncated to
  // their last complete frame (a torn tail is dropped with a warning), then to the first
  // keep.steps / keep.evals records (a resume from a checkpoint drops what came after it; a
  // stream with fewer records is left as it is). Throws Error (input) naming the file on a
  // missing or corrupt header or stream, Error (io) when truncating fails.
  static std::unique_ptr<RunWriter> reopen(const std::string& dir, const Keep& keep);
  static std::unique_ptr<RunWriter> reopen(const std::string& dir) { return reopen(dir, Keep{}); }

  ~RunWriter();  // flushes; never throws

  // Buffered appends; records reach the disk at flush().
  void append_step(const proto::StepRecord& step);
  void append_eval(const proto::EvalRecord& eval);
  // Writes buffered records and fsyncs the streams. Throws Error (io) on I/O failure.
  void flush();
  // Flushes, then replaces record.pb atomically with `header` (its schema_version is set).
  // Throws Error (io) on I/O failure; the previous record.pb is then left intact.
  void write_header(const proto::RunRecord& header);

  const std::string& dir() const;

 private:
  struct Impl;
  explicit RunWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A run directory read back.
struct RunData {
  std::string dir;
  proto::RunRecord header;
  std::vector<proto::StepRecord> steps;  // every complete step, in order
  std::vector<proto::EvalRecord> evals;
  bool steps_torn = false;  // steps.bin ended in a partial or corrupt frame (dropped)
  // header.status, except that a run whose header still says RUNNING but whose process is
  // gone (same hostname, and pid <= 0 or no such process) is reported INTERRUPTED, with
  // status_reason saying so. On another host a RUNNING header stays RUNNING.
  proto::RunStatus status = proto::RUN_STATUS_UNSPECIFIED;
  std::string status_reason;
};

// Reads a run directory. Throws Error (input) naming the file when the directory or its
// header is missing, unreadable or not a RunRecord, or its schema_version is newer than this
// reader's. A header is a run only with a schema_version and a run id: an empty record.pb is
// "<dir>/record.pb: is empty (not a run record)", one without them "... has no run id (not a
// run record, or truncated)". record.pb and the streams must be regular files (a FIFO or a
// symlink to /dev/zero is refused naming it; util/input_file.h); record.pb is read up to 16 MiB.
RunData read_run(const std::string& dir);

// Run directories directly under `runs_dir` (those with a record.pb), sorted by the header's
// started_at, then by name; hidden entries (temporary directories of RunWriter::create) are
// skipped. A missing `runs_dir` gives an empty list; an unreadable entry is skipped with a
// warning. Throws Error (input) when `runs_dir` exists but cannot be listed.
std::vector<std::string> list_runs(const std::string& runs_dir);

// "finished", "failed", "interrupted", "running"; "unspecified" for anything else.
std::string status_name(proto::RunStatus status);

}  // namespace repro
