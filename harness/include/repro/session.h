// repro/session.h: make an existing LibTorch training program reproducible and recorded.
//
// A Session applies everything that makes a run repeatable (seeds from one master seed,
// deterministic algorithms, pinned thread counts), captures the environment, fingerprints the
// input files, and records the run into its own directory: the resolved config, every derived
// seed, each step's loss as exact bits, parameter digests, evaluations and the final status.
//
// The usual program, with the lines that change marked:
//
//   #include <repro/session.h>                                           // +
//   int main(int argc, char** argv) {
//     repro::Session session(repro::load_config("train.textproto"));     // + (replaces torch::manual_seed(1))
//     Net model;                                                         // struct Net : torch::nn::Module
//     session.watch(model);                                              // + (a TORCH_MODULE holder: *model)
//     torch::optim::SGD optimizer(model.parameters(), 0.01);
//     for (int64_t step = 0; step < 1000; ++step) {
//       ... forward, loss.backward(), optimizer.step() ...
//       session.record_step(step, loss);                                 // +
//     }
//     session.finish();                                                  // +
//   }
//
// Op tracing (`repro trace`, repro/trace.h) is driven by REPRO_TRACE_* environment variables
// that the Session reads; a program needs nothing more, and may call begin_step() to mark where
// each step starts. A re-execution that `repro trace` starts stops at the traced step by an
// exception from record_step (TraceWindowClosed, below).
//
// Construct the Session before any other torch work: thread counts and CPU-kernel pins cannot
// be changed once torch has started. Errors are repro::Error (see repro/error.h).
//
// Random numbers: the Session seeds torch's global CPU generator with seed("torch.default")
// (torch::manual_seed), which is what module initialisation, dropout and
// torch::data::samplers::RandomSampler use (it draws torch::randperm from that generator when
// constructed and at every reset(), i.e. at the start of each pass over a DataLoader), so a
// program that builds its model and loader after the Session is covered. Not covered:
// DistributedRandomSampler (std::shuffle with a std::mt19937 seeded by its epoch: repeatable
// with one standard library, another order with another), and random draws in dataset code
// run by DataLoader workers (workers > 0) or from unseeded engines (use rng()).
// models/examples/mnist_plain.cc and mnist_repro.cc show a whole program before and after.
//
// Checkpoints and resume (repro/checkpoint.h): a loop that saves checkpoints can be killed at
// any point and continued, bit for bit, by a fresh process that constructs its Session with
// SessionOptions::resume_dir:
//
//   repro::SessionOptions options;
//   options.resume_dir = argc > 1 ? argv[1] : "";                     // continue that run
//   repro::Session session(config, options);
//   Net model;  session.watch(model);  torch::optim::Adam optimizer(...);
//   const auto from = session.resume(&optimizer).value_or(repro::CheckpointState{});
//   for (int64_t step = from.step; step < 1000; ++step) {
//     ... train, session.record_step(step, loss) ...
//     if ((step + 1) % 100 == 0) session.save_checkpoint({step + 1, epoch, position}, &optimizer);
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"
#include "repro/checkpoint.h"
#include "repro/config.h"
#include "repro/error.h"

namespace at {
class Tensor;
}
namespace torch::nn {
class Module;
}
namespace torch::optim {
class Optimizer;
}

namespace repro {

struct SessionOptions {
  // Where run directories go; empty: config.record.runs_dir. The run directory is
  // <runs_dir>/<run_id> unless `run_dir` is given.
  std::string runs_dir;
  // Exact run directory to create (must not exist). Set by `repro rerun` through the
  // REPRO_RUN_DIR variable when empty here. The run id is a new one, or the name that `repro run`
  // or `repro rerun` gave the directory it chose; a data-parallel rank r > 0 records in
  // <rank 0's dir>/ranks/<r> as <rank 0's id>.rank<r>.
  std::string run_dir;
  // Recorded as the command that made the run; empty: this process's /proc/self/cmdline.
  std::vector<std::string> argv;
  // "session" for user programs; the built-in trainer says "repro run".
  std::string origin = "session";
  // On SIGINT/SIGTERM the run is recorded as interrupted at the next record_step(), then the
  // signal takes its usual effect. Off: the program's own handlers stay in place.
  bool handle_signals = true;
  // When set, also log to <run_dir>/run.log.
  bool log_file = true;
  // Continue the run recorded in this directory instead of starting a new one (default: empty,
  // a new run). The recorded config and seed are used; from the `config` given to the Session
  // only determinism.intra_op_threads and inter_op_threads are taken (pass header().config()
  // or the same config file; another config is warned about and ignored). The run must be
  // interrupted or failed: a finished run, or one whose process still runs, is Error (usage).
  // The Session continues from the newest checkpoint that verifies (a corrupt newer one is
  // named in a warning), cutting the recorded steps and evaluations back to it; without one the
  // run starts again from step 0 in the same directory. Then call resume() once the model is
  // watched and the optimizer built. The resume is recorded in header().resumes().
  std::string resume_dir;
  // With resume_dir: a difference from the recorded environment that can change numerics (the
  // environment facts compare_runs marks affects_numerics: threads, torch build, CPU capability
  // and flags, oneDNN/MKL/OpenMP versions, each numerics library, numerics variables, compiler,
  // glibc, CUDA, packages; and the data and model file digests) is Error (usage) naming it,
  // instead of a warning. Hostname, kernel, OS name and cgroup limit never are. Default off.
  bool strict_resume = false;
  // Data on the command line: every argv element after the program (and the VALUE of an
  // element "--name=VALUE") that names an existing file or directory, relative to the working
  // directory, is tracked as data under the role "argv[<i>]" (see track_data), except the run
  // directory, the runs directory and anything under them. Such a path may be an output the run
  // writes, so a change in it is named in every report but does not refuse a rerun; give the
  // path to track_data for that. Off: only what track_data and the config name is tracked.
  bool track_argv = true;
  // Digest every tracked file again, ignoring the digest cache (see repro/data.h); also set by
  // REPRO_REHASH=1 (`repro run --rehash`).
  bool rehash = false;
  // A dirty work tree's patch (`git diff HEAD --binary`) is kept in the run directory up to this
  // many bytes; the files that do not fit are named in CodeIdentity.left_out. 0: no patch.
  std::uint64_t patch_limit = 16u << 20;
};

// Named values of one step: record_step(step, {{"d_loss", d_loss}, {"g_loss", g_loss}}).
using NamedValues = std::vector<std::pair<std::string, at::Tensor>>;

// What a step reports besides its loss. Negative values mean "not reported" (a NaN grad_norm
// is reported, recorded and caught by the NaN/Inf guard, see record_step).
struct StepExtras {
  double lr = -1;
  double grad_norm = -1;
  int64_t epoch = -1;
  const at::Tensor* batch = nullptr;  // digested when record.batch_digest is on
};

// Thrown by Session::record_step when train.on_nonfinite is "stop" (the default) and the step's
// loss or gradient norm is NaN or Inf, after the step is recorded and the run ended as failed
// with what() as its reason: "non-finite loss at step 3: nan (0x7fc00000)", or "non-finite
// gradient norm at step 3: inf (first non-finite gradient: hidden.0.weight)". Its kind is
// internal: the run failed, the input was fine; `repro run` reports it and exits 1.
class NonFiniteError : public Error {
 public:
  NonFiniteError(const std::string& message, int64_t step, std::string tensor)
      : Error(ErrorKind::kInternal, message), step_(step), tensor_(std::move(tensor)) {}
  int64_t step() const noexcept { return step_; }
  // What was not finite: "loss", a named value of record_step ("g_loss"), or "grad_norm".
  const std::string& tensor() const noexcept { return tensor_; }

 private:
  int64_t step_;
  std::string tensor_;
};

// Thrown by Session::record_step(K) in a process that was asked to stop after tracing step K
// (REPRO_TRACE_STOP=1, which `repro trace` sets in the re-executions it starts; repro/trace.h),
// once the trace is written and the run is recorded as interrupted with what() as its reason:
// "stopped after the trace window at step 3". Nothing failed, so it is not a repro::Error: the
// process was asked for steps 0..K only, and the library never exits a process itself. A
// program needs no code for it: left uncaught it ends the process there (std::terminate), and
// `repro trace` reads only the trace and the record; a program that catches std::exception
// around its loop sees it there and can end as it likes. The built-in trainer returns the run
// as interrupted (`repro run` exits 0).
class TraceWindowClosed : public std::runtime_error {
 public:
  TraceWindowClosed(const std::string& message, int64_t step) : std::runtime_error(message), step_(step) {}
  int64_t step() const noexcept { return step_; }

 private:
  int64_t step_;
};

class Session {
 public:
  // Starts a run: resolves the seed (config.seed 0 → one drawn from std::random_device and
  // recorded), applies determinism (repro/determinism.h), captures the environment, digests the
  // config's data files and the code identity (git commit and dirty flag of the working
  // directory's work tree, executable digest), and creates the run directory with its header.
  // `config` should be resolved (repro/config.h); it is resolved again here so the record is
  // complete. A program started by a launcher (`repro run [--set P=V]... [--seed N] -- PROGRAM`,
  // `repro rerun` of its run) gets the launcher's settings through the environment: the
  // assignments of REPRO_SET are applied to `config` first, as apply_override does, and recorded
  // in header().overrides(); REPRO_SEED replaces config.seed; REPRO_LAUNCHER is recorded as
  // header().launcher(). Throws Error (usage) for determinism that cannot be applied, a bad
  // REPRO_SET assignment (naming it) or a REPRO_SEED that is not a positive integer (naming
  // REPRO_SEED), Error (input) for unreadable data files or a run directory that exists.
  explicit Session(proto::RunConfig config, SessionOptions options = {});
  // A session that was not finished records status failed (during an exception: "exception
  // while training"; otherwise "session ended without finish()"). Never throws.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The master seed in use, and derived seeds (recorded under their purpose).
  std::uint64_t seed() const;
  std::uint64_t seed(const std::string& purpose);
  // A seeded engine for user code: std::mt19937_64 seeded with seed("user/" + purpose).
  std::mt19937_64 rng(const std::string& purpose);

  // Records the module's parameters and buffers (names, shapes, dtypes), its printed
  // architecture and the initial digest; later digests cover the same tensors. Call after
  // building the model and before training. In a data-parallel run every rank's initial digest
  // is compared first (a rank that differs from rank 0 fails the run on every rank: Error
  // (internal) naming it), then rank 0's tensors are broadcast (repro/distributed.h). `name` defaults to the module's
  // own name(). Several models (a GAN's generator and discriminator): watch each under its own name, or all at once
  // with watch({{"generator", *g}, {"discriminator", *d}}). Digests then cover all of them, in watch order, and each
  // one's is recorded too, so a comparison names the model whose parameters differ first. Watching a name again
  // replaces that model.
  void watch(const torch::nn::Module& module, const std::string& name = "");
  void watch(const std::vector<std::pair<std::string, std::reference_wrapper<const torch::nn::Module>>>& modules);
  // The same for tensors that are not one nn::Module (TorchScript, several modules): named
  // parameters then named buffers, in a stable order.
  void watch(const std::vector<std::pair<std::string, at::Tensor>>& parameters,
             const std::vector<std::pair<std::string, at::Tensor>>& buffers, const std::string& name,
             const std::string& summary);

  // Optional: marks the start of a step, before its forward pass, for op tracing (repro/trace.h).
  // When this process traces step `step` (REPRO_TRACE_STEP), the trace window opens (again)
  // here and the state entering the step is taken, including `optimizer`'s state and the
  // `batch` digest when given (either may be null). Does nothing otherwise; cheap to call every
  // step. Without it the window opens after record_step(step - 1), or at watch() for step 0.
  void begin_step(int64_t step, const torch::optim::Optimizer* optimizer = nullptr, const at::Tensor* batch = nullptr);

  // Data-parallel runs (repro/distributed.h): after backward, before the optimizer's step,
  // averages the watched trainable parameters' gradients over the ranks (buckets in
  // registration order, sum, divide by the world size; a parameter without a gradient gets the
  // average of zeros and the others' gradients) and copies rank 0's buffers to every rank. Does
  // nothing in a single process, so a program calls it either way. Throws Error (internal) when a
  // rank stopped or did not arrive within the job's timeout.
  void synchronize();
  // This process's rank and the job's number of ranks; 0 and 1 in a single process.
  int rank() const;
  int world_size() const;

  // Records one optimisation step. `loss` is a scalar tensor; its value is stored exactly as
  // produced (float32 bits, or float64); in a data-parallel run the recorded loss (and each
  // named value) is the mean over the ranks and this rank's own is StepRecord.local_loss; a
  // parameter digest that is due is compared across the ranks (a rank out of step ends the run
  // as failed on every rank, Error (internal) naming the rank and the step). Steps must
  // increase. The parameter digest is added
  // every record.param_digest_every steps. Records reach the disk every record.flush_every
  // steps. When this process traces this step (repro/trace.h) the trace window closes first and
  // the trace is written; with REPRO_TRACE_STOP the step is recorded, the run is recorded as
  // interrupted and TraceWindowClosed is thrown (see above). After SIGINT/SIGTERM (see
  // SessionOptions::handle_signals) this call records the step, marks the run interrupted, and
  // lets the signal end the process.
  // NaN/Inf guard: a non-finite loss or extras.grad_norm is recorded like any other value (its
  // bits are in the step stream); then with train.on_nonfinite "stop" (default) the run ends as
  // failed and NonFiniteError is thrown; with "warn" the first such step is logged as a warning
  // (later ones are counted, and the count logged when the run ends) and the run goes on.
  // Returns the loss as recorded: in a data-parallel run the mean over the ranks, the same on
  // every rank (what `repro show` prints; a rank's own loss is the record's local_loss).
  double record_step(int64_t step, const at::Tensor& loss, const StepExtras& extras = {});
  // The same with several named values (a GAN's discriminator and generator losses), each a
  // scalar tensor stored as its exact bits; the first is the run's primary series (what
  // `repro ls`, sweeps and envelopes call the loss). The names, in this order, must be the same
  // at every step. Compare, check, show --steps and the plots handle every series and name the
  // first that diverges. The NaN/Inf guard watches every value. Returns the first value as
  // recorded.
  double record_step(int64_t step, const NamedValues& values, const StepExtras& extras = {});
  // Records an evaluation ("validation", "test") at a step: metric name → value.
  void record_eval(int64_t step, const std::string& split, const std::map<std::string, double>& metrics);

  // Tracks a data file or a whole directory (recursively: each regular file's relative path,
  // size and XXH3-128, sorted; the directory's digest over that list) under `role`. A rerun
  // refuses when its content changed (RerunOptions::allow_data_change runs anyway) and names
  // what changed: "data/train: 2,000 files added, 1 changed". Unchanged files are not read
  // again: see repro/data.h for the digest cache, its rule and its risk. Throws Error (input)
  // naming the path when it does not exist or cannot be read, Error (usage) for a role used
  // twice. A path already tracked from the command line is taken over under `role`.
  void track_data(const std::string& path, const std::string& role);

  // A hyperparameter: returns `default_value`, or the value the config's params section or a
  // launcher's `--set params.NAME=VALUE` gives (converted to the default's type; Error (input)
  // naming the parameter when it does not convert). Each is recorded with its default, value
  // and source, and a comparison names a change in any of them ("params.lr 0.05 vs 0.01
  // (B: override)"). Asking for the same name again returns the recorded value; with another
  // type or default it is Error (usage). Values are recorded as text: a double in its shortest
  // round-trip form ("0.01"), a bool "true"/"false" (given as true, false, 1 or 0), both integer
  // overloads as type "int" (the int one refuses a value outside int's range, Error (input)).
  // The name is a letter or '_' then letters, digits, '_', '.' or '-' (Error (usage) otherwise).
  // header().params() lists them in the order first asked for.
  double param(const std::string& name, double default_value);
  int param(const std::string& name, int default_value);
  std::int64_t param(const std::string& name, std::int64_t default_value);
  bool param(const std::string& name, bool default_value);
  std::string param(const std::string& name, const std::string& default_value);
  std::string param(const std::string& name, const char* default_value);

  // Data fingerprint parts that only the training loop knows: the split, and each epoch's order.
  void record_split(const at::Tensor& train_indices, const at::Tensor& validation_indices, int64_t test_samples);
  void record_epoch_order(int64_t epoch, const at::Tensor& order);

  // Digest of the watched tensors now (see repro/digest.h, digest_tensors).
  std::string param_digest() const;

  // Saves a checkpoint (repro/checkpoint.h) of the loop at `state` (state.step: steps done,
  // the step index the loop continues with): the watched tensors, `optimizer` (may be null),
  // torch's default CPU generator, the run's record counts, and what `user` writes into its
  // archive. Call it after record_step() of the last step it covers; recorded steps are flushed
  // first. Keeps the newest train.keep_checkpoints (default 3). Throws Error (usage) before
  // watch(), Error (io) on I/O failure.
  void save_checkpoint(const CheckpointState& state, torch::optim::Optimizer* optimizer,
                       const CheckpointSaveHook& user = {});
  // On a Session made with resume_dir and a valid checkpoint: restores the watched tensors in
  // place, `optimizer` (built over the same parameters, same order), the default CPU generator
  // and the user state (`user` reads what the save hook wrote), and returns where the loop
  // continues. Returns nullopt for a new run, a resumed run without a checkpoint (start from
  // step 0), or on a second call. Call it after watch() and after building the model and
  // optimizer, before the first step. Throws Error (input) naming the checkpoint when it does
  // not fit the watched tensors or holds no optimizer state, Error (usage) before watch().
  std::optional<CheckpointState> resume(torch::optim::Optimizer* optimizer, const CheckpointLoadHook& user = {});
  // True when this Session continues an earlier run (SessionOptions::resume_dir).
  bool resumed() const;

  // Ends the run: final parameter digest, status finished, everything flushed.
  void finish();
  // Ends the run as failed, with a one-line reason (e.g. "loss is NaN at step 512").
  void fail(const std::string& reason);
  // For bad input found before the first step (a malformed data file, a batch larger than the
  // data): the run never started, so nothing of it is kept. A new run's directory is removed
  // (and the runs directory, when this Session created it and it is empty); the caller reports
  // the error. After a recorded step, or in a resumed run, it is fail(reason).
  void abandon(const std::string& reason);

  const std::string& run_dir() const;
  const std::string& run_id() const;
  const proto::RunConfig& config() const;  // resolved, with the seed actually used
  const proto::RunRecord& header() const;

 private:
  void start_new(proto::RunConfig config, SessionOptions options);
  void guard_nonfinite(int64_t step, const at::Tensor& loss, double grad_norm);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repro
