// repro/environment.h: capture of everything in this process's environment that can change
// the numbers a training run produces (library versions and builds, kernels in use, threads,
// variables, compiler, OS, CPU), and checks of the machine against environment.lock.
//
//   repro::proto::Environment env = repro::capture_environment();
//   std::cout << repro::format_environment(env);
//
// Capture never throws for a fact it cannot read: the field stays empty and
// `env.unavailable()` lists the fact with the reason (like google/benchmark's sysinfo).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proto/environment.pb.h"

namespace repro {

// Bumped whenever the layout of proto::Environment changes meaning.
inline constexpr unsigned kEnvironmentSchemaVersion = 1;

// Captures the environment now. Thread counts and numerics variables are read live, so call it
// after determinism settings are applied to record what a run really used. Facts that cannot
// change during a process (CPU, OS, libraries, executable digest) are read once and cached.
proto::Environment capture_environment();

// Whether a variable can change numerics (and is therefore captured and reproduced by
// reruns): OMP_*, MKL_*, OPENBLAS_*, GOTO*, KMP_*, GOMP_*, BLIS_*, ONEDNN_*, DNNL_*, ATEN_*,
// CUDA_*, CUBLAS_*, CUDNN_*, NVIDIA_TF32_*, TORCH_*, LD_PRELOAD, LD_LIBRARY_PATH, GLIBC_TUNABLES.
bool is_numerics_variable(const std::string& name);

// Text rendering: an aligned table grouped by topic (torch, threads, libraries, oneDNN,
// variables, build, OS, CPU, CUDA, packages, identity, unavailable facts).
std::string format_environment(const proto::Environment& env);

// JSON rendering through protobuf's JSON mapping, field names as in the .proto (snake_case).
std::string to_json(const google::protobuf::Message& message);

// Compares the packages installed on this machine (dpkg's status file) with a lock file and
// returns the result: `matches` is true when every locked package is installed at its locked
// version; otherwise `mismatches` lists the others, in lock order. Throws Error (input) naming
// the file when it cannot be read, or file:line when a line is malformed.
proto::LockCheck verify_lock_file(const std::string& lock_path,
                                  const std::string& dpkg_status = "/var/lib/dpkg/status");

// A CPU-kernel choice a recorded run made that a process started on this machine would make
// differently.
struct KernelMismatch {
  std::string field;     // in proto::Environment: "torch.cpu_capability", "onednn.effective_isa",
                         // "blas.implementation", "blas.core" or "libm.dispatch"
  std::string what;      // "ATen CPU capability", "oneDNN ISA", "BLAS library", "OpenBLAS core",
                         // "libm variant"
  std::string recorded;  // the run's choice ("AVX512")
  std::string here;      // this machine's ("AVX2")
  std::string variable;  // what pins it: ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA, OPENBLAS_CORETYPE, GLIBC_TUNABLES
                         // ("" for the BLAS library: no variable does, `cannot` says why)
  std::string pin;       // the variable's value that makes the recorded choice here (GLIBC_TUNABLES:
                         // the child's other tunables kept)
  std::string cannot;    // why this machine cannot make the recorded choice ("this CPU lacks
                         // avx512f, avx512bw"); "" when pinning `variable` to `pin` makes it
};

// The kernel choices of a run recorded in `recorded` that a process started here with the
// numerics variables `child` would make differently (`here`: this process's
// capture_environment()). `repro rerun` passes the recorded variables (what its child gets),
// `repro check` its own (what its runs get before their configs' pins). A pin in `child` this
// CPU cannot run counts as the machine's own choice. A choice either side does not know (a
// record made before it was captured, an OpenBLAS core this process's own OPENBLAS_CORETYPE
// hides) is skipped. Empty when such a process would run the recorded kernels.
std::vector<KernelMismatch> kernel_mismatches(const proto::Environment& recorded, const proto::Environment& here,
                                              const std::map<std::string, std::string>& child);

// "ATen CPU capability AVX2 here, AVX512 in the run; ..." for `mismatches`.
std::string describe_kernel_mismatches(const std::vector<KernelMismatch>& mismatches);

}  // namespace repro
