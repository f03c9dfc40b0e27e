// kernel_mismatches: what a process started here with given numerics variables would choose,
// library by library, against what a recorded run chose.
#include <algorithm>
#include <map>

#include "env/cpu_features.h"
#include "repro/environment.h"
#include "util/strings.h"

namespace repro {
namespace {

using Variables = std::map<std::string, std::string>;

std::string variable_of(const Variables& vars, const std::string& name) {
  const auto it = vars.find(name);
  return it == vars.end() ? "" : it->second;
}

std::string onednn_cap(const Variables& vars) {
  const std::string onednn = variable_of(vars, "ONEDNN_MAX_CPU_ISA");
  return onednn.empty() ? variable_of(vars, "DNNL_MAX_CPU_ISA") : onednn;
}

void add_if_different(std::vector<KernelMismatch>& out, KernelMismatch m, bool case_matters = true) {
  if (m.recorded.empty() || m.here.empty()) return;
  const bool same =
      case_matters ? m.recorded == m.here : internal::ascii_lower(m.recorded) == internal::ascii_lower(m.here);
  if (!same) out.push_back(std::move(m));
}

// Why the recorded `level` cannot run here: "this CPU lacks avx512f, avx512bw"; "" when it can.
std::string lacking(const std::string& library, const std::string& level) {
  const std::string missing = internal::missing_cpu_features(library, level);
  return missing.empty() ? "" : "this CPU lacks " + missing;
}

}  // namespace

std::vector<KernelMismatch> kernel_mismatches(const proto::Environment& recorded, const proto::Environment& here,
                                              const Variables& child) {
  std::vector<KernelMismatch> out;

  // ATen 1.13 takes ATEN_CPU_CAPABILITY when it is one of its lower-case names (and dies of
  // SIGILL when the CPU lacks it: counted as the native choice, so that it cannot be matched).
  const std::string capability = variable_of(child, "ATEN_CPU_CAPABILITY");
  const auto levels = internal::kernel_levels("aten");
  const bool taken = std::find(levels.begin(), levels.end(), capability) != levels.end() &&
                     internal::missing_cpu_features("aten", capability).empty();
  const std::string recorded_capability = recorded.torch().cpu_capability();
  // Unpinned, a child picks what this process's torch picked unpinned: the same build on the
  // same CPU (Debian's 1.13 picks AVX2 on an AVX-512 Xeon, so the CPU alone does not tell).
  const std::string native =
      internal::variable_at_start("ATEN_CPU_CAPABILITY").empty() && !here.torch().cpu_capability().empty()
          ? here.torch().cpu_capability()
          : internal::native_cpu_capability();
  add_if_different(out, {"torch.cpu_capability", "ATen CPU capability", recorded_capability,
                         taken ? internal::ascii_upper(capability) : native, "ATEN_CPU_CAPABILITY",
                         internal::ascii_lower(recorded_capability), lacking("aten", recorded_capability)});

  const std::string isa = recorded.onednn().effective_isa();
  add_if_different(out, {"onednn.effective_isa", "oneDNN ISA", isa, internal::onednn_isa_under(onednn_cap(child)),
                         "ONEDNN_MAX_CPU_ISA", internal::ascii_upper(isa), lacking("onednn", isa)});

  // A DYNAMIC_ARCH OpenBLAS here picks the recorded OPENBLAS_CORETYPE when this CPU has it, and
  // otherwise what it picked in this process (unknowable when this process has its own pin).
  // Another BLAS library has other kernels whatever its settings: no variable chooses the
  // recorded one's here (Debian switches libblas.so.3 with update-alternatives).
  const std::string core = recorded.blas().core();
  const std::string library = recorded.blas().implementation();
  if (!library.empty() && !here.blas().implementation().empty() && library != here.blas().implementation()) {
    out.push_back({"blas.implementation", "BLAS library", library, here.blas().implementation(), "", "",
                   "this machine loads " + here.blas().implementation() +
                       " (the run's library must be installed and "
                       "chosen for libblas.so.3)"});
  } else if (here.blas().implementation() != "openblas" || !here.blas().dynamic_arch()) {
    const std::string blas = here.blas().implementation().empty() ? "none" : here.blas().implementation();
    add_if_different(out,
                     {"blas.core", "OpenBLAS core", core, here.blas().core().empty() ? blas : here.blas().core(),
                      "OPENBLAS_CORETYPE", core, "this machine's BLAS (" + blas + ") is not a DYNAMIC_ARCH OpenBLAS"},
                     false);
  } else {
    const std::string pinned = variable_of(child, "OPENBLAS_CORETYPE");
    std::string here_core;
    if (!pinned.empty() && internal::missing_cpu_features("openblas", pinned).empty()) {
      here_core = pinned;
    } else if (here.numerics_env().count("OPENBLAS_CORETYPE") == 0) {
      here_core = here.blas().core();
    }
    add_if_different(
        out, {"blas.core", "OpenBLAS core", core, here_core, "OPENBLAS_CORETYPE", core, lacking("openblas", core)},
        false);
  }

  const std::string libm = recorded.libm().dispatch();
  const std::string tunables = variable_of(child, "GLIBC_TUNABLES");
  std::string libm_lacking;
  if (libm == "fma") libm_lacking = lacking("aten", "avx2");  // FMA and AVX2, as glibc asks
  if (libm == "fma4" && internal::libm_dispatch_under("-FMA") != "fma4") libm_lacking = "this CPU lacks fma4";
  const std::string mask = internal::hwcaps_for_libm(libm);
  add_if_different(out, {"libm.dispatch", "libm variant", libm,
                         internal::libm_dispatch_under(internal::hwcaps_of_tunables(tunables)), "GLIBC_TUNABLES",
                         internal::tunables_with_hwcaps(tunables, mask), libm_lacking});
  return out;
}

std::string describe_kernel_mismatches(const std::vector<KernelMismatch>& mismatches) {
  std::string out;
  for (const auto& m : mismatches) {
    out += (out.empty() ? "" : "; ") + m.what + " " + m.here + " here, " + m.recorded + " in the run";
  }
  return out;
}

}  // namespace repro
