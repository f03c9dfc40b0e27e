// repro/determinism.h: seeds from one master seed, and the process-wide settings that make
// torch's numerics repeatable.
//
// Seed derivation (stable across versions and platforms; reproducible in any language):
//   h    = FNV-1a 64 of the purpose's UTF-8 bytes
//          (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
//   z    = master XOR h, then one SplitMix64 step:
//          z += 0x9e3779b97f4a7c15; z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
//          z = (z ^ (z >> 27)) * 0x94d049bb133111eb; z ^= z >> 31
//   seed = z & 0x7fffffffffffffff   (63 bits: accepted by every torch frontend, Python included)
// Purposes used by reprotorch: "torch.default" (the default CPU and CUDA generators: weight
// initialisation, dropout), "data.split", "data.shuffle/epoch/<e>" (one per epoch, e from 0),
// "data.synthetic", and "user/<name>" for engines handed to user code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "proto/environment.pb.h"
#include "proto/portability.pb.h"
#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"

namespace repro {

// See the derivation above.
std::uint64_t derive_seed(std::uint64_t master, std::string_view purpose);

// A master seed from std::random_device, never 0 (63 bits).
std::uint64_t draw_seed();

// Portable numerics (determinism.portable: true). Four libraries pick their CPU kernels from the
// CPU they run on, and each choice rounds differently, so an unpinned run gives other bits on
// another x86-64 machine:
//   ATen          ATEN_CPU_CAPABILITY  DEFAULT / AVX2 / AVX512 vectorised kernels
//   oneDNN        ONEDNN_MAX_CPU_ISA   convolutions' JIT code: sse41 ... avx512_core_amx
//   OpenBLAS      OPENBLAS_CORETYPE    sgemm kernels of a DYNAMIC_ARCH build: Haswell, SkylakeX...
//   glibc libm    GLIBC_TUNABLES       glibc.cpu.hwcaps: expf, logf, powf, exp, sin... have FMA
//                                      variants (used when FMA and AVX2 are usable) that round
//                                      differently from the SSE2 ones
// `portable` pins each to the level every x86-64-v2 CPU has (SSE4.2: Intel since Nehalem, 2008;
// AMD since Bulldozer, 2011), so that the same build of the same libraries gives the same bits
// on any such machine. It costs speed: README's benchmark table gives steps/s native and
// portable per built-in model. Not pinned (and named by `repro env --portable-check`): another
// version of any library, a BLAS other than OpenBLAS or Debian's reference BLAS (MKL, BLIS),
// and GPUs.
inline constexpr char kPortableCpuCapability[] = "default";
inline constexpr char kPortableOnednnIsa[] = "sse41";
inline constexpr char kPortableBlasCoretype[] = "nehalem";
inline constexpr char kPortableGlibcHwcaps[] = "-AVX2,-FMA,-FMA4";

// `repro env --portable-check`: for a run with `config` (resolved) in this process's environment
// `env` (capture_environment()), each CPU-kernel choice (ATen capability, oneDNN ISA, BLAS and
// its core, libm variant) as "varies" when another x86-64 machine may choose otherwise, "pinned"
// when the config pins it to the portable level, "limited" when pinned higher; then notes on
// what no pin fixes (library versions: environment.lock; GPUs). `origin` names the config file
// in the result ("" for defaults). Never throws.
proto::PortabilityCheck check_portability(const proto::DeterminismConfig& config, const proto::Environment& env,
                                          const std::string& origin = "");

// Text rendering: the verdict line, then one aligned line per item (status, setting, value, why, fix).
std::string format_portability(const proto::PortabilityCheck& check);

// Resolves determinism.portable: an empty pin becomes its portable value above. Called by
// resolve_config(); validate_config() then refuses a pin that differs from it.
void resolve_portable(proto::DeterminismConfig* config);

// Variables that must be in the process environment before the libraries read them (ATen and
// oneDNN once, at their first kernel; OpenBLAS and glibc when the process is loaded):
// ATEN_CPU_CAPABILITY (determinism.cpu_capability), ONEDNN_MAX_CPU_ISA (onednn_max_cpu_isa),
// OPENBLAS_CORETYPE (blas_coretype) and GLIBC_TUNABLES (glibc_hwcaps, merged into any other
// tunables already set). Returns those the config pins whose current value differs; empty when
// nothing needs doing. Throws Error (usage) naming the field when a pin asks for instructions
// this CPU lacks (torch, and OpenBLAS with a forced core, would die of SIGILL).
std::map<std::string, std::string> missing_pins(const proto::DeterminismConfig& config);

// Puts `pins` (missing_pins(), not empty) in place the only way there is: sets them in the
// environment, with REPRO_REEXECUTED=1, and execs this process's image (/proc/self/exe) again
// with the same arguments (/proc/self/cmdline); `repro run`, `resume` and `doctor` do this.
// Returns only by throwing Error (internal): when the exec fails, or when this process is
// itself such a re-execution (REPRO_REEXECUTED is set) and the pins are still not in effect.
[[noreturn]] void reexecute_with_pins(const std::map<std::string, std::string>& pins);

// Applies everything else, in this process, before the run's first torch op:
// deterministic algorithms (warn-only if asked), cuDNN deterministic and benchmark off, TF32
// off and float32 matmul precision "highest", CUBLAS_WORKSPACE_CONFIG=:4096:8 when CUDA is
// present and it is unset, intra-op threads (at::set_num_threads, and OMP_/MKL_/OPENBLAS_
// NUM_THREADS for libraries that start later), inter-op threads, then seeds torch's default
// generators with derive_seed(master, "torch.default").
// Throws Error (usage) when a pin from missing_pins() is not in place (the caller must
// re-execute with it: `repro run` does), when the capability in effect differs from the pin
// (e.g. avx512 requested on a CPU without it), when OpenBLAS runs another core than
// blas_coretype (an unknown name, or an OpenBLAS built for one core), when `portable` is on
// and the BLAS is MKL or BLIS (their kernels cannot be pinned), or when inter-op threads cannot be changed
// because torch already started parallel work.
// The environment is captured once everything is applied (it is what the run really uses);
// when `environment` is not null it receives that capture.
proto::DeterminismApplied apply_determinism(const proto::DeterminismConfig& config, std::uint64_t master_seed,
                                            proto::Environment* environment = nullptr);

}  // namespace repro
