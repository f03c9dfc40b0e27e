#include "repro/determinism.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/utils.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "env/cpu_features.h"
#include "repro/environment.h"
#include "repro/error.h"
#include "util/env_names.h"
#include "util/strings.h"

namespace repro {
namespace {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

void set_variable(proto::DeterminismApplied* applied, const std::string& name, const std::string& value) {
  setenv(name.c_str(), value.c_str(), 1);
  (*applied->mutable_variables_set())[name] = value;
}

}  // namespace

std::uint64_t derive_seed(std::uint64_t master, std::string_view purpose) {
  return splitmix64(master ^ fnv1a64(purpose)) & 0x7fffffffffffffffULL;
}

std::uint64_t draw_seed() {
  std::random_device rd;
  std::uint64_t seed = 0;
  while (seed == 0) seed = ((static_cast<std::uint64_t>(rd()) << 32) ^ rd()) & 0x7fffffffffffffffULL;
  return seed;
}

namespace {

void require_features(const std::string& field, const std::string& library, const std::string& level,
                      const std::string& consequence) {
  if (const std::string lacking = internal::missing_cpu_features(library, level); !lacking.empty()) {
    throw Error::usage("determinism." + field + ": '" + level + "' requested but this CPU lacks " + lacking + " (" +
                       consequence + "); pin a level this CPU has, or determinism.portable");
  }
}

}  // namespace

void resolve_portable(proto::DeterminismConfig* config) {
  if (!config->portable()) return;
  if (config->cpu_capability().empty()) config->set_cpu_capability(kPortableCpuCapability);
  if (config->onednn_max_cpu_isa().empty()) config->set_onednn_max_cpu_isa(kPortableOnednnIsa);
  if (config->blas_coretype().empty()) config->set_blas_coretype(kPortableBlasCoretype);
  if (config->glibc_hwcaps().empty()) config->set_glibc_hwcaps(kPortableGlibcHwcaps);
}

std::map<std::string, std::string> missing_pins(const proto::DeterminismConfig& config) {
  require_features("cpu_capability", "aten", config.cpu_capability(), "torch would run kernels it cannot execute");
  require_features("blas_coretype", "openblas", config.blas_coretype(), "OpenBLAS would run kernels it cannot execute");
  std::map<std::string, std::string> pins;
  if (!config.cpu_capability().empty() && env_or_empty("ATEN_CPU_CAPABILITY") != config.cpu_capability()) {
    pins["ATEN_CPU_CAPABILITY"] = config.cpu_capability();
  }
  if (!config.onednn_max_cpu_isa().empty() && env_or_empty("ONEDNN_MAX_CPU_ISA") != config.onednn_max_cpu_isa()) {
    pins["ONEDNN_MAX_CPU_ISA"] = config.onednn_max_cpu_isa();
  }
  // OpenBLAS and ld.so read theirs when the process is loaded: what counts is the environment
  // it was started with, not a setenv() since.
  if (!config.blas_coretype().empty() && internal::variable_at_start("OPENBLAS_CORETYPE") != config.blas_coretype()) {
    pins["OPENBLAS_CORETYPE"] = config.blas_coretype();
  }
  if (!config.glibc_hwcaps().empty() &&
      internal::hwcaps_of_tunables(internal::variable_at_start("GLIBC_TUNABLES")) != config.glibc_hwcaps()) {
    pins["GLIBC_TUNABLES"] = internal::tunables_with_hwcaps(env_or_empty("GLIBC_TUNABLES"), config.glibc_hwcaps());
  }
  return pins;
}

void reexecute_with_pins(const std::map<std::string, std::string>& pins) {
  if (std::getenv(internal::kEnvReexecuted) != nullptr) {
    throw Error::internal("re-executed with " + pins.begin()->first + " but the pin is still not in effect");
  }
  for (const auto& [name, value] : pins) setenv(name.c_str(), value.c_str(), 1);
  setenv(internal::kEnvReexecuted, "1", 1);
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> argv;
  for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // The running image itself, not the path it was started from (which may name a newer build).
  execv("/proc/self/exe", args.data());
  throw Error::internal(std::string("cannot re-execute /proc/self/exe: ") + std::strerror(errno));
}

proto::DeterminismApplied apply_determinism(const proto::DeterminismConfig& config, std::uint64_t master_seed,
                                            proto::Environment* environment) {
  const auto missing = missing_pins(config);
  if (!missing.empty()) {
    const auto& [name, value] = *missing.begin();
    throw Error::usage("determinism: " + name + "=" + value +
                       " must be set before the process starts (the library reads it once); start this program "
                       "with it in its environment (`repro run` of a config re-executes itself with it)");
  }
  proto::DeterminismApplied applied;
  applied.set_reexecuted(std::getenv(internal::kEnvReexecuted) != nullptr);
  const int intra = config.intra_op_threads();
  for (const char* var : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    set_variable(&applied, var, std::to_string(intra));
  }
  const bool cuda = at::hasCUDA();
  if (cuda && env_or_empty("CUBLAS_WORKSPACE_CONFIG").empty())
    set_variable(&applied, "CUBLAS_WORKSPACE_CONFIG", ":4096:8");

  auto& ctx = at::globalContext();
  ctx.setDeterministicAlgorithms(config.deterministic_algorithms(), config.warn_only());
  ctx.setDeterministicCuDNN(true);
  ctx.setBenchmarkCuDNN(false);
  ctx.setAllowTF32CuBLAS(false);
  ctx.setAllowTF32CuDNN(false);
  ctx.setFloat32MatmulPrecision("highest");

  at::set_num_threads(intra);
  if (at::get_num_interop_threads() != config.inter_op_threads()) {
    try {
      at::set_num_interop_threads(config.inter_op_threads());
    } catch (const c10::Error& e) {
      throw Error::usage("determinism.inter_op_threads: cannot set " + std::to_string(config.inter_op_threads()) +
                         " inter-op threads now (" + e.what_without_backtrace() +
                         "); start the session before any torch work");
    }
  }
  torch::manual_seed(derive_seed(master_seed, "torch.default"));

  applied.set_deterministic_algorithms(ctx.deterministicAlgorithms());
  applied.set_warn_only(ctx.deterministicAlgorithmsWarnOnly());
  applied.set_intra_op_threads_requested(intra);
  applied.set_intra_op_threads(at::get_num_threads());
  applied.set_inter_op_threads_requested(config.inter_op_threads());
  applied.set_inter_op_threads(at::get_num_interop_threads());
  applied.set_cudnn_deterministic(ctx.deterministicCuDNN());
  applied.set_cudnn_benchmark(ctx.benchmarkCuDNN());
  applied.set_tf32_allowed(ctx.allowTF32CuBLAS() || ctx.allowTF32CuDNN());

  const auto env = capture_environment();
  applied.set_cpu_capability_requested(config.cpu_capability());
  applied.set_cpu_capability(env.torch().cpu_capability());
  if (!config.cpu_capability().empty() && internal::ascii_upper(config.cpu_capability()) != applied.cpu_capability()) {
    throw Error::usage("determinism.cpu_capability: '" + config.cpu_capability() + "' requested but torch runs " +
                       applied.cpu_capability() + " kernels on this CPU");
  }
  applied.set_onednn_max_cpu_isa_requested(config.onednn_max_cpu_isa());
  applied.set_onednn_effective_isa(env.onednn().effective_isa());
  applied.set_blas_coretype_requested(config.blas_coretype());
  applied.set_blas_core(env.blas().core());
  if (!config.blas_coretype().empty() && env.blas().implementation() == "openblas" &&
      internal::ascii_lower(env.blas().core()) != internal::ascii_lower(config.blas_coretype())) {
    throw Error::usage("determinism.blas_coretype: '" + config.blas_coretype() + "' requested but OpenBLAS runs " +
                       env.blas().core() + " kernels (" +
                       (env.blas().dynamic_arch() ? "OpenBLAS knows no core of that name"
                                                  : "this OpenBLAS is built for one core and cannot be pinned") +
                       ")");
  }
  if (config.portable() && (env.blas().implementation() == "mkl" || env.blas().implementation() == "blis")) {
    throw Error::usage(
        "determinism.portable: the loaded BLAS (" + env.blas().implementation() + ", " + env.blas().version() +
        ") picks its kernels from the CPU and cannot be pinned; use OpenBLAS or Debian's reference BLAS");
  }
  applied.set_glibc_hwcaps_requested(config.glibc_hwcaps());
  applied.set_libm_dispatch(env.libm().dispatch());
  applied.set_portable(config.portable());
  if (environment != nullptr) *environment = env;
  return applied;
}

}  // namespace repro
