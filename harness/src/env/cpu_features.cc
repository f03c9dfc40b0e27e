#include "env/cpu_features.h"

#include <cpuid.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <vector>

#include "util/strings.h"

namespace repro::internal {
namespace {

// CPUID leaf 7 bit: (subleaf, register index eax=0..edx=3, bit).
bool cpuid7_bit(unsigned subleaf, int reg, int bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (__get_cpuid_count(7, subleaf, &r[0], &r[1], &r[2], &r[3]) == 0) return false;
  return ((r[reg] >> bit) & 1U) != 0;
}

// This CPU's features by the names GCC's __builtin_cpu_supports takes (it wants literals); the
// two that clang 14's builtin does not know are read from CPUID (leaf 7: AVX-VNNI is subleaf 1
// EAX bit 4, AMX-TILE subleaf 0 EDX bit 24).
bool cpu_has(const std::string& feature) {
#define REPRO_FEATURE(name) \
  { name, __builtin_cpu_supports(name) != 0 }
  static const std::map<std::string, bool> kHas = {
      REPRO_FEATURE("sse3"),
      REPRO_FEATURE("ssse3"),
      REPRO_FEATURE("sse4.1"),
      REPRO_FEATURE("sse4.2"),
      REPRO_FEATURE("popcnt"),
      REPRO_FEATURE("avx"),
      REPRO_FEATURE("avx2"),
      REPRO_FEATURE("fma"),
      REPRO_FEATURE("fma4"),
      REPRO_FEATURE("avx512f"),
      REPRO_FEATURE("avx512bw"),
      REPRO_FEATURE("avx512vl"),
      REPRO_FEATURE("avx512dq"),
      REPRO_FEATURE("avx512cd"),
      REPRO_FEATURE("avx512vnni"),
      REPRO_FEATURE("avx512bf16"),
      {"avxvnni", __builtin_cpu_supports("avx2") != 0 && cpuid7_bit(1, 0, 4)},
      {"amx-tile", cpuid7_bit(0, 3, 24)},
  };
#undef REPRO_FEATURE
  const auto it = kHas.find(feature);
  return it != kHas.end() && it->second;
}

// What each level's kernels execute (torch 1.13's ATen, oneDNN 2.x's ISAs, OpenBLAS 0.3's x86-64
// cores); a level not listed needs nothing checked here.
const std::vector<std::string>& features_of(const std::string& library, const std::string& level) {
  using List = std::vector<std::string>;
  static const List kAvx512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"};
  static const std::map<std::string, std::map<std::string, List>> kNeeds = {
      {"aten", {{"avx2", {"avx2", "fma"}}, {"avx512", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "fma"}}}},
      {"onednn",
       {{"sse41", {"sse4.1"}},
        {"avx", {"avx"}},
        {"avx2", {"avx2"}},
        {"avx2_vnni", {"avx2", "avxvnni"}},
        {"avx512_core", kAvx512},
        {"avx512_core_vnni", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni"}},
        {"avx512_core_bf16", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avx512bf16"}},
        {"avx512_core_amx", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vnni", "avx512bf16", "amx-tile"}}}},
      {"openblas",
       {{"prescott", {"sse3"}},
        {"core2", {"ssse3"}},
        {"atom", {"ssse3"}},
        {"penryn", {"sse4.1"}},
        {"dunnington", {"sse4.1"}},
        {"nehalem", {"sse4.2", "popcnt"}},
        {"sandybridge", {"avx"}},
        {"bulldozer", {"avx", "fma4"}},
        {"piledriver", {"avx", "fma"}},
        {"steamroller", {"avx", "fma"}},
        {"excavator", {"avx2", "fma"}},
        {"haswell", {"avx2", "fma"}},
        {"zen", {"avx2", "fma"}},
        {"skylakex", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}},
        {"cooperlake", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}},
        {"sapphirerapids", {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}}}},
  };
  static const List kNone;
  const auto lib = kNeeds.find(library);
  if (lib == kNeeds.end()) return kNone;
  const auto it = lib->second.find(ascii_lower(level));
  return it == lib->second.end() ? kNone : it->second;
}

const std::vector<std::string> kOnednnOrder = {
    "avx512_core_amx", "avx512_core_bf16", "avx512_core_vnni", "avx512_core", "avx2_vnni", "avx2", "avx", "sse41"};

bool has_all(const std::string& library, const std::string& level) {
  return missing_cpu_features(library, level).empty();
}

bool masked(const std::string& hwcaps, const std::string& feature) {
  for (const auto& item : split(hwcaps, ',')) {
    if (item == "-" + feature) return true;
  }
  return false;
}

}  // namespace

std::vector<std::string> kernel_levels(const std::string& library) {
  if (library == "onednn") return {kOnednnOrder.rbegin(), kOnednnOrder.rend()};
  if (library == "aten") return {"default", "avx2", "avx512"};
  return {};
}

std::string missing_cpu_features(const std::string& library, const std::string& level) {
  std::string missing;
  for (const auto& feature : features_of(library, level)) {
    if (!cpu_has(feature)) missing += (missing.empty() ? "" : ", ") + feature;
  }
  return missing;
}

bool runs_on_every_x86_64_v2(const std::string& library, const std::string& level) {
  if (library == "aten" && ascii_lower(level) == "default") return true;
  const auto& needs = features_of(library, level);
  if (needs.empty()) return false;  // unknown to the table
  static const std::vector<std::string> kV2 = {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"};
  return std::all_of(needs.begin(), needs.end(),
                     [](const std::string& f) { return std::find(kV2.begin(), kV2.end(), f) != kV2.end(); });
}

std::string native_cpu_capability() {
  if (has_all("aten", "avx512")) return "AVX512";
  if (has_all("aten", "avx2")) return "AVX2";
  return "DEFAULT";
}

std::string onednn_isa_under(const std::string& cap) {
  const std::string limit = ascii_lower(cap);
  bool allowed = limit.empty() || limit == "all" ||
                 std::find(kOnednnOrder.begin(), kOnednnOrder.end(), limit) == kOnednnOrder.end();
  for (const auto& isa : kOnednnOrder) {
    allowed = allowed || isa == limit;
    if (allowed && has_all("onednn", isa)) return isa;
  }
  return "all";  // below SSE4.1: oneDNN's reference kernels
}

std::string libm_dispatch_under(const std::string& hwcaps) {
  // glibc 2.36 sysdeps/x86_64/fpu/multiarch/ifunc-fma4.h and ifunc-fma.h: the FMA variants need
  // FMA and AVX2 usable, the FMA4 ones FMA4.
  if (cpu_has("fma") && cpu_has("avx2") && !masked(hwcaps, "FMA") && !masked(hwcaps, "AVX2")) return "fma";
  if (cpu_has("fma4") && !masked(hwcaps, "FMA4")) return "fma4";
  return "sse2";
}

std::string hwcaps_of_tunables(const std::string& tunables) {
  // "glibc.malloc.check=1:glibc.cpu.hwcaps=-AVX2,-FMA"; the last assignment wins, as in glibc.
  const std::string key = "glibc.cpu.hwcaps=";
  std::string value;
  for (const auto& item : split(tunables, ':')) {
    if (item.rfind(key, 0) == 0) value = item.substr(key.size());
  }
  return value;
}

std::string tunables_with_hwcaps(const std::string& tunables, const std::string& hwcaps) {
  std::string out;
  for (const auto& item : split(tunables, ':')) {
    if (!item.empty() && item.rfind("glibc.cpu.hwcaps=", 0) != 0) out += item + ":";
  }
  return out + "glibc.cpu.hwcaps=" + hwcaps;
}

std::string variable_at_start(const std::string& name) {
  static const std::map<std::string, std::string> kAtStart = [] {
    std::map<std::string, std::string> vars;
    std::ifstream in("/proc/self/environ", std::ios::binary);
    for (std::string kv; std::getline(in, kv, '\0');) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) vars.emplace(kv.substr(0, eq), kv.substr(eq + 1));
    }
    return vars;
  }();
  const auto it = kAtStart.find(name);
  return it == kAtStart.end() ? "" : it->second;
}

std::string hwcaps_for_libm(const std::string& dispatch) {
  if (dispatch == "fma4") return "-FMA";
  if (dispatch == "sse2") return "-AVX2,-FMA,-FMA4";
  return "";
}

}  // namespace repro::internal
