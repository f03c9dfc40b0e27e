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

#include "proto/run_config.pb.h"
#include "proto/run_record.pb.h"

namespace repro {

// See the derivation above.
std::uint64_t derive_seed(std::uint64_t master, std::string_view purpose);

// A master seed from std::random_device, never 0 (63 bits).
std::uint64_t draw_seed();

// Variables that must be in the process environment before torch first runs a kernel, because
// ATen and oneDNN read them once: ATEN_CPU_CAPABILITY for determinism.cpu_capability and
// ONEDNN_MAX_CPU_ISA for determinism.onednn_max_cpu_isa. Returns those the config pins whose
// current value differs; empty when nothing needs doing.
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
// (e.g. avx512 requested on a CPU without it), or when inter-op threads cannot be changed
// because torch already started parallel work.
// The environment is captured once everything is applied (it is what the run really uses);
// when `environment` is not null it receives that capture.
proto::DeterminismApplied apply_determinism(const proto::DeterminismConfig& config, std::uint64_t master_seed,
                                            proto::Environment* environment = nullptr);

}  // namespace repro
