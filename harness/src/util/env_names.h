// Private: the name of every REPRO_* environment variable the harness sets or reads, with who
// sets it and who reads it. No other file of harness/ spells these names out.
#pragma once

namespace repro::internal {

// The directory a child records its run into (it must not exist). Set by child_environment
// (util/child.h) for every `repro run` or user program that rerun, check and sweep start; read
// by Session::start_new when SessionOptions::run_dir is empty.
inline constexpr char kEnvRunDir[] = "REPRO_RUN_DIR";

// The run id a launcher gave the run it starts: the name it chose for REPRO_RUN_DIR, so that
// the directory and the record name one run. Set by child_environment for `repro run` (a
// program or ranks, fleet/launch.cc) and `repro rerun` (fleet/rerun.cc), dropped from what any
// other child inherits; read by Session::start_new with REPRO_RUN_DIR.
inline constexpr char kEnvRunId[] = "REPRO_RUN_ID";

// The run id of the run being repeated. Set by rerun (fleet/rerun.cc) in its child; read by
// Session::start_new into RunRecord.rerun_of.
inline constexpr char kEnvRerunOf[] = "REPRO_RERUN_OF";

// "1" in a process that re-executed itself to put CPU-kernel pins in place. Set by
// reexecute_with_pins (run/determinism.cc) before it execs; read there (a second re-execution
// is an error, not a loop) and by apply_determinism (DeterminismApplied.reexecuted). Dropped
// by child_environment (util/child.h): a child applies its own pins.
inline constexpr char kEnvReexecuted[] = "REPRO_REEXECUTED";

// Op tracing (repro/trace.h): the step to trace, the trace file, "1" to stop after the window,
// ';'-separated config assignments, and the rank of a data-parallel job that records. Set by `repro trace`
// (fleet/trace_run.cc) in the processes it starts, or by anyone; read by trace_request_from_env
// (trace/trace_window.cc).
inline constexpr char kEnvTraceStep[] = "REPRO_TRACE_STEP";
inline constexpr char kEnvTraceFile[] = "REPRO_TRACE_FILE";
inline constexpr char kEnvTraceStop[] = "REPRO_TRACE_STOP";
inline constexpr char kEnvTraceSet[] = "REPRO_TRACE_SET";
inline constexpr char kEnvTraceRank[] = "REPRO_TRACE_RANK";

// Launching a user's program (`repro run -- PROGRAM`, sweep, check, rerun of a program's run):
// the master seed the Session uses instead of its config's, newline-separated config
// assignments it applies (`params.lr=0.01`, `train.steps=50`), and the launcher's name
// ("repro run") recorded as RunRecord.launcher. Set by child_environment (util/child.h) for the
// launchers (run, sweep, check, rerun) and dropped from what a child inherits; read by
// Session::start_new.
inline constexpr char kEnvSeed[] = "REPRO_SEED";
inline constexpr char kEnvSet[] = "REPRO_SET";
inline constexpr char kEnvLauncher[] = "REPRO_LAUNCHER";

// Data digests: "1" to digest every tracked file again (`--rehash`), and the digest cache's
// directory ("off": no cache; default $XDG_CACHE_HOME/reprotorch or ~/.cache/reprotorch).
// Set by `repro run/rerun --rehash` or the user; read by the data tracker (run/data_tree.cc).
inline constexpr char kEnvRehash[] = "REPRO_REHASH";
inline constexpr char kEnvDigestCache[] = "REPRO_DIGEST_CACHE";

// The console log level when none is given (trace ... off). Set by the user; read by
// set_log_level("") (util/log.cc).
inline constexpr char kEnvLogLevel[] = "REPRO_LOG_LEVEL";

// Fault injection, for tests only: a write to a file whose path contains this value fails as if
// the disk were full (ENOSPC). Set by tests (tests/e2e/bad_input_catalog_test.cc); read by
// write_file_atomic and the record streams' flush (injected_write_failure, util/fileutil.h).
inline constexpr char kEnvFaultEnospc[] = "REPRO_FAULT_ENOSPC";

// Data-parallel jobs (repro/distributed.h): seconds every wait of a rank may take (the join,
// each collective). Set by the rank launcher (fleet/rank_launch.cc) from --dist-timeout, or by
// the user; read by rank_environment (dist/rank_environment.cc). The job's other variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) are torchrun's, read there too.
inline constexpr char kEnvDistTimeout[] = "REPRO_DIST_TIMEOUT_S";

// Not read by the harness: REPRO_PROTOC (the protoc that tools/plotlib uses).

}  // namespace repro::internal
