// repro/trace.h: op-level tracing of one training step, and finding the first op where two
// runs part (`repro trace`).
//
// What is recorded. While a trace window is open, a global ATen RecordFunction callback records
// every OUTERMOST op (an op called while no other traced op runs on the same thread; the ops a
// composite op calls inside itself are not recorded, because they can expose buffers their
// caller has not written yet), forward and backward (ops inside an autograd node are outermost
// on their thread). For each op (proto::OpEvent): a sequence number in start order, the op name
// ("aten::addmm", "mylib::jitter"), a thread number (0 = the thread that opened the window), the
// phase (forward; backward = inside an autograd node; update = on the calling thread after
// backward ran: norms, clipping, the optimizer step), the innermost named scope (see below),
// and for each input and output its kind, dtype, shape and XXH3 digest. Tensors digest as their
// logical values (digest_tensor in repro/digest.h: views and non-contiguous tensors as their
// contents); undefined tensors as "undefined"; tensor lists element by element; scalars, ints,
// bools and lists of them by their value. Inputs are digested when the op starts (in-place ops
// have changed them by the end), outputs when it ends. Digests are taken with RecordFunction
// and autograd disabled, so tracing never runs an op of the program's own and never changes its
// numbers. Nothing is recorded outside the window, and the callback is removed when it closes.
//
// Scopes. A RecordFunction of scope USER_SCOPE names what runs inside it, e.g. in user code
// `RECORD_USER_SCOPE("encoder");` (ATen's macro, from ATen/record_function.h) before calling a
// module; the built-in trainer scopes its model call with the model's name. Backward ops are
// named by their autograd node and inherit the scope of the forward op that made the node.
//
// The window covers step K: it opens when the state entering K is taken — at
// Session::begin_step(K) when the program calls it, else right after Session::record_step(K-1)
// (for K = 0: at Session::watch) — and closes in Session::record_step(K), so it holds K's
// forward, backward and optimizer step. The state entering K (proto::StepState): a digest of
// every watched tensor and of all of them, the optimizer's state (when begin_step was given
// one: SGD, Adam, AdamW), torch's default CPU generator state, and the batch digest (begin_step's
// batch, else StepExtras::batch of record_step(K)).
//
// A Session traces when its process has these environment variables (`repro trace` sets them
// in the processes it starts; anyone can):
//   REPRO_TRACE_STEP=K       the step to trace (a non-negative integer; else Error (usage))
//   REPRO_TRACE_FILE=PATH    where the trace goes (required with REPRO_TRACE_STEP)
//   REPRO_TRACE_STOP=1       after the window, record the run as interrupted ("stopped after
//                            the trace window at step K") and throw TraceWindowClosed from
//                            record_step(K) (repro/session.h): uncaught, it ends the process
//                            there, so that tracing step K costs steps 0..K only; the built-in
//                            trainer catches it (`repro run` exits 0). Default: go on.
//   REPRO_TRACE_SET=A;B;...  config assignments (as `repro run --set`), applied to the config
//                            a new Session is given before anything else: `--knobs` changes
//                            determinism.* settings this way.
//   REPRO_TRACE_RANK=R       in a data-parallel job (repro/distributed.h): only rank R records
//                            the window and writes the file; every rank opens and closes it at
//                            the same step and stops there with REPRO_TRACE_STOP, so that the
//                            ranks' collectives still meet. Unset: every rank that traces writes
//                            the file (give each its own REPRO_TRACE_FILE).
//
// Collectives. The gradient all-reduce and the broadcasts of a data-parallel Session
// (Session::synchronize) run on Gloo's threads, outside ATen's dispatcher; the window records
// each as one op of its own, "c10d::allreduce" (inputs: this rank's bucket as it goes in;
// outputs: the sum over the ranks, before the division by the world size, which is the
// aten::div_ after it) or "c10d::broadcast" (inputs: this rank's bucket; outputs: rank 0's
// values), with the phase of the ops around it. A collective whose inputs are identical and
// whose outputs differ means another rank contributed other values: align_traces says so, and
// tracing that rank (TraceOptions::rank) shows where they came from.
// The trace file is a framed stream of proto::TraceFrame (proto/trace.proto), written
// atomically when the window closes: the start (state), each op, the end (loss, op count).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/trace.pb.h"
#include "repro/record.h"

namespace repro {

// The window a process was asked to trace (the variables above); nullopt when REPRO_TRACE_STEP
// is unset. Throws Error (usage) naming the variable for a bad step or rank, or a missing file.
struct TraceRequest {
  int64_t step = 0;
  std::string file;
  bool stop = false;
  std::vector<std::string> overrides;  // REPRO_TRACE_SET, split at ';'
  int rank = -1;                       // REPRO_TRACE_RANK; -1: unset (any rank records)
};
std::optional<TraceRequest> trace_request_from_env();

// Records ops while it exists (see above). One at a time per process: a second is Error
// (usage). `start` is written as the trace's first frame.
class TraceRecorder {
 public:
  explicit TraceRecorder(proto::TraceStart start);
  ~TraceRecorder();  // removes the callback; never throws
  TraceRecorder(const TraceRecorder&) = delete;
  TraceRecorder& operator=(const TraceRecorder&) = delete;

  // Stops recording (removes the callback) and returns the trace, `end` completed with the op
  // count and the window's wall time. Later calls return an empty trace.
  proto::Trace finish(proto::TraceEnd end);

 private:
  unsigned long long handle_ = 0;
  double opened_s_ = 0;
  bool active_ = false;
  proto::TraceStart start_;
};

// Writes `trace` to `path` as a framed stream, atomically. Throws Error (io) on I/O failure.
void write_trace(const std::string& path, const proto::Trace& trace);
// Reads a trace file. Throws Error (input) naming the file when it is missing, not a trace
// stream, or incomplete (no start or no end frame: the traced process died in the window).
proto::Trace read_trace(const std::string& path);

// Aligns two traces of the same step and classifies the first difference (proto::TraceVerdict):
// the state entering the step first (which parts differ), then the ops in order: different op
// names or input/output counts → SEQUENCE_MISMATCH; inputs differ → EXTERNAL_INPUT (no earlier
// output differed, so the difference came from outside ATen); outputs differ with identical
// inputs → NONDETERMINISTIC_OP, or OTHER_RANK for a collective (c10d::*). Fills every field of the report but run/trace
// paths and knobs.
proto::TraceReport align_traces(const proto::Trace& a, const proto::Trace& b);

// True when both traces have the same ops with the same output digests (the step computed the
// same numbers); `first` (when not null) receives "op N aten::x (phase)" for the first that differs.
bool same_outputs(const proto::Trace& a, const proto::Trace& b, std::string* first = nullptr);

// Human-readable report; the op stream of one trace (one line per op, digests cut to 16 hex
// digits, for diffing by hand; the step's loss exact, "0.5 (0x3f000000)"). JSON: to_json in
// repro/environment.h (protobuf's mapping).
std::string format_trace_report(const proto::TraceReport& report);
std::string format_trace(const proto::Trace& trace);

// `repro trace`: re-executes runs with tracing on for one step (see repro/rerun.h for how a
// run is re-executed; the re-executions stop after the window, REPRO_TRACE_STOP above, whatever
// their exit status, and their run directories are removed). Trace files go to
// `<run dir>/traces/step-<K>[-<label>].trace` of the run traced; the report of two runs to
// trace_report_path() below.
struct TraceOptions {
  int64_t step = -1;         // -1: the first divergent step of the two records (repro/compare.h)
  bool knobs = false;        // also run the settings matrix (below)
  std::string repro_binary;  // default: this executable
  // Re-execute although inputs changed since the run (repro/rerun.h, RerunOptions); default off.
  bool allow_data_change = false;
  bool allow_model_change = false;
  bool allow_changed_code = false;
  // A data-parallel run is re-executed with its world size (repro/rerun.h) and traced on this
  // rank (0 .. world size - 1; else Error (usage)); its trace files are named
  // step-<K>[-<label>]-rank<R>.trace for a rank other than 0. The records compared to choose the
  // step are rank 0's (the recorded loss is the mean over the ranks, the same on every rank).
  int rank = 0;
};

// Traces step K of `a` and of `b` (b null: of a second fresh execution of `a`) and aligns them.
// When K came from the records (no --step) and the state entering K already differs — e.g. a
// gradient that differed in its last bit at step K-1 changed only the optimizer state, so the
// losses part one step later — the earlier steps are bisected on the state entering each
// (every probe traces both runs once) and the report is that of the last step whose entering
// state is the same, naming the op there; `requested_step` and `walk` say how it got there.
// With knobs: for each numerics setting that differs between the two records' determinism
// configs (intra/inter-op threads, CPU capability, deterministic algorithms), or when none
// does, for the usual suspects (intra-op threads 1 vs 2 and the CPU capability pinned to
// "default"), re-executes run A's step with only that setting changed and says whether its op
// outputs match run B's or part from run A's. Throws Error (usage) when no step can be chosen
// (identical records and no --step) or the step is past a run's recorded steps, Error (input)
// for changed inputs (see repro/rerun.h) and Error (internal) when a re-execution writes no trace.
proto::TraceReport trace_runs(const RunData& a, const RunData* b, const TraceOptions& options);

// Where trace_runs keeps the report of a pair (a binary proto::TraceReport, written atomically
// when run B was given): <run_dir_a>/traces/report-<run_id_b>.pb, the run id with every
// character but letters, digits, '.', '_' and '-' made '_'. The HTML report
// (repro/html_report.h) shows it on the pair's comparison page.
std::string trace_report_path(const std::string& run_dir_a, const std::string& run_id_b);

// Traces step K of one run (one re-execution) and returns the trace and its file.
proto::Trace trace_one(const RunData& run, int64_t step, const TraceOptions& options, std::string* file = nullptr);

}  // namespace repro
