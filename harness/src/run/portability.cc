// check_portability: which of a run's CPU-kernel choices would travel to another x86-64
// machine. The levels themselves are env/cpu_features.cc's; the pins, determinism.h's.
#include <algorithm>
#include <set>

#include "env/cpu_features.h"
#include "repro/determinism.h"
#include "util/strings.h"

namespace repro {
namespace {

proto::PortabilityItem* add(proto::PortabilityCheck* check, const std::string& setting, const std::string& here,
                            const std::string& status, const std::string& why, const std::string& fix) {
  auto* item = check->add_items();
  item->set_setting(setting);
  item->set_here(here.empty() ? "-" : here);
  item->set_status(status);
  item->set_why(why);
  item->set_fix(fix);
  return item;
}

// "varies" for no pin (or one that does not pin: oneDNN's "all", a libm mask that leaves the
// FMA variants), "pinned" for a level every x86-64-v2 CPU runs alike, else "limited".
std::string pin_status(const std::string& library, const std::string& pin) {
  if (pin.empty()) return "varies";
  if (library == "libm") {
    // The SSE2 variants on every CPU: the FMA ones need FMA and AVX2, the FMA4 ones FMA4.
    std::set<std::string> masked;
    for (const auto& item : internal::split(internal::ascii_upper(pin), ',')) masked.insert(item);
    return (masked.count("-FMA") || masked.count("-AVX2")) && masked.count("-FMA4") ? "pinned" : "varies";
  }
  if (library == "onednn" && internal::ascii_lower(pin) == "all") return "varies";
  return internal::runs_on_every_x86_64_v2(library, pin) ? "pinned" : "limited";
}

// One kernel choice of `library` pinned by `field` (value `pin`, "" unpinned) whose portable
// value is `portable`; `here` is this process's own choice. A pinned item shows the pin.
void add_choice(proto::PortabilityCheck* check, const std::string& setting, const std::string& here,
                const std::string& library, const std::string& field, const std::string& pin,
                const std::string& portable, const std::string& chosen_why) {
  const std::string status = pin_status(library, pin);
  const std::string fix = "determinism." + field + ": " + portable + " (or determinism.portable)";
  if (status == "varies") {
    add(check, setting, pin.empty() ? here : pin, status,
        pin.empty() ? chosen_why : "pinned to " + pin + ", which still leaves the choice to the CPU", fix);
  } else if (status == "pinned") {
    add(check, setting, pin, status, "every x86-64-v2 CPU runs it the same way (unpinned here: " + here + ")", "");
  } else {
    add(check, setting, pin, status,
        "a CPU without the instructions of " + pin + " is refused (oneDNN: runs a lower ISA, other bits)", fix);
  }
}

}  // namespace

proto::PortabilityCheck check_portability(const proto::DeterminismConfig& config, const proto::Environment& env,
                                          const std::string& origin) {
  proto::PortabilityCheck check;
  check.set_schema_version(1);
  check.set_config(origin);
  add_choice(&check, "ATen CPU capability", env.torch().cpu_capability(), "aten", "cpu_capability",
             config.cpu_capability(), kPortableCpuCapability,
             "chosen from this CPU: AVX512 where AVX-512 is, AVX2 where AVX2 and FMA are, else DEFAULT");
  add_choice(&check, "oneDNN ISA", env.onednn().effective_isa(), "onednn", "onednn_max_cpu_isa",
             config.onednn_max_cpu_isa(), kPortableOnednnIsa,
             "chosen from this CPU: convolutions JIT-compile for the best ISA it has");

  const auto& blas = env.blas();
  if (blas.implementation() == "openblas" && blas.dynamic_arch()) {
    add_choice(&check, "OpenBLAS core", blas.core(), "openblas", "blas_coretype", config.blas_coretype(),
               kPortableBlasCoretype,
               "chosen from this CPU (DYNAMIC_ARCH): each core's sgemm kernels sum in their own order");
  } else if (blas.implementation() == "openblas") {
    add(&check, "OpenBLAS core", blas.core(), "varies",
        "this OpenBLAS is built for one core; another machine's build may be for another", "");
  } else if (blas.implementation() == "mkl" || blas.implementation() == "blis") {
    add(&check, "BLAS", blas.implementation(), "varies",
        blas.implementation() + " picks its kernels from the CPU, and reprotorch cannot pin them", "");
  } else if (blas.implementation() == "reference") {
    add(&check, "BLAS", "reference", "pinned", "Debian's reference BLAS has one code path on every CPU", "");
  }

  const std::string libm_here = env.libm().dispatch();
  add_choice(&check, "libm variant", libm_here, "libm", "glibc_hwcaps", config.glibc_hwcaps(), kPortableGlibcHwcaps,
             "chosen from this CPU: glibc's expf, logf, exp, sin... use FMA variants where FMA and AVX2 are");

  const std::string versions = "libtorch " + env.torch().package_version() + ", oneDNN " + env.onednn().version() +
                               ", glibc " + env.os().glibc();
  add(&check, "library versions", versions, "note",
      "another version of any of these computes other bits on any machine", "environment.lock (repro env --verify)");
  if (env.cuda().available()) {
    add(&check, "CUDA", env.cuda().runtime_version(), "note",
        "GPU kernels differ by device and driver; the pins here are for CPU kernels", "");
  }
  bool portable = true;
  for (const auto& item : check.items()) portable = portable && item.status() != "varies" && item.status() != "limited";
  check.set_portable(portable);
  return check;
}

std::string format_portability(const proto::PortabilityCheck& check) {
  std::string out = check.portable()
                        ? "portable: this run's CPU kernels are the same on every x86-64-v2 machine\n"
                        : "not portable: another x86-64 machine may compute other bits (settings marked varies)\n";
  if (!check.config().empty()) out += "config: " + check.config() + "\n";
  std::size_t w_status = 0, w_setting = 0, w_here = 0;
  for (const auto& i : check.items()) {
    w_status = std::max(w_status, i.status().size());
    w_setting = std::max(w_setting, i.setting().size());
    w_here = std::max(w_here, std::min<std::size_t>(i.here().size(), 24));
  }
  auto pad = [](const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  for (const auto& i : check.items()) {
    out += "  " + pad(i.status(), w_status) + "  " + pad(i.setting(), w_setting) + "  " + pad(i.here(), w_here) + "  " +
           i.why() + (i.fix().empty() ? "" : "; fix: " + i.fix()) + "\n";
  }
  return out;
}

}  // namespace repro
