// Private: the one rule for which differences between two captured environments can change
// numerics. `repro compare` lists every item (compare/compare_environment.cc); a resume warns
// about, and with --strict refuses, the numerics-relevant ones (session/session_resume.cc).
#pragma once

#include <string>
#include <vector>

#include "proto/environment.pb.h"

namespace repro::internal {

struct EnvironmentDifference {
  std::string field;  // path in proto::Environment: "torch.cpu_capability", "libraries[blas].real_path"
  std::string a;      // the value in the first environment, as text ("" when absent)
  std::string b;
  bool affects_numerics = false;
  std::string what;  // the fact in words: "ATen CPU capability"
  std::string why;   // how it can change numbers; may be empty
};

// Every fact that differs, in this order: torch (version, package, CPU capability, oneDNN, OpenMP
// and MKL versions, build configuration), threads (intra-op, inter-op, OpenMP), libraries,
// oneDNN (ISA, version), numerics variables (a missing one reads "(unset)"), build (compiler,
// build type, environment.lock digest), CPU model and ISA flags, glibc, OS name, kernel,
// hostname and cgroup CPU limit, CUDA (available, runtime, cuDNN, devices), installed packages.
// All affect numerics except OS name, kernel, hostname and cgroup CPU limit. Other facts are not
// compared: they differ from process to process (captured_at, identity) or change no numbers
// unless a compared fact changes too (thread sources, core counts, cxx_flags, unavailable).
//
// Libraries are compared per role (blas, torch, cuda...). A role with at most one library on
// each side is one fact, "libraries[<role>]"; in a role with more, each library is paired with
// the one of the same file name stem (libtorch_cpu.so.1.13 -> libtorch_cpu) and named
// "libraries[<role>:<stem>]". A pair yields ".real_path" and ".version" when they differ; a
// library on one side only yields the bare field with the other value empty.
std::vector<EnvironmentDifference> environment_differences(const proto::Environment& a, const proto::Environment& b);

// The numerics-relevant items of environment_differences(before, after), one line each:
// "<field>: <before> -> <after>" ("threads.intra_op: 1 -> 2"); an empty value reads "(none)",
// a value over one line or 200 characters (torch.build_config) is not repeated ("<field>:
// changed (long value; both environments are recorded)"). Empty when nothing relevant differs.
std::vector<std::string> numerics_differences(const proto::Environment& before, const proto::Environment& after);

}  // namespace repro::internal
