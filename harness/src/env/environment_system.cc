// OS and CPU facts, read from the kernel's files; nothing here needs torch.
#include <gnu/libc-version.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "env/environment_facts.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

// Flags that decide which SIMD kernels ATen, oneDNN, sleef and BLAS pick.
bool is_numerics_flag(const std::string& flag) {
  static const std::set<std::string> kFlags = {
      "sse",         "sse2",        "ssse3",       "sse4_1",   "sse4_2",   "avx",      "avx2",
      "fma",         "f16c",        "avx512f",     "avx512dq", "avx512cd", "avx512bw", "avx512vl",
      "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8", "amx_tile", "avx_vnni",
      "asimd",       "sve",         "sve2",        "neon",     "fp16",     "bf16",     "i8mm"};
  return kFlags.count(flag) > 0;
}

}  // namespace

void capture_os(proto::Os* os, proto::Environment* env) {
  std::ifstream release("/etc/os-release");
  for (std::string line; std::getline(release, line);) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) os->set_name(unquote(line.substr(12)));
  }
  if (os->name().empty()) add_unavailable(env, "os.name", "no PRETTY_NAME in /etc/os-release");
  utsname u{};
  if (uname(&u) == 0) {
    os->set_kernel(std::string(u.sysname) + " " + u.release + " " + u.version);
    os->set_machine(u.machine);
  } else {
    add_unavailable(env, "os.kernel", "uname failed");
  }
  os->set_glibc(gnu_get_libc_version());
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) {
    os->set_hostname(host);
  } else {
    add_unavailable(env, "os.hostname", "gethostname failed");
  }
}

void capture_cpu(proto::Cpu* cpu, proto::Environment* env) {
  std::ifstream info("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;  // (physical id, core id)
  std::string physical_id, flags_line;
  for (std::string line; std::getline(info, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key(trim(std::string_view(line).substr(0, colon)));
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && cpu->model().empty()) cpu->set_model(value);
    if (key == "vendor_id" && cpu->vendor().empty()) cpu->set_vendor(value);
    if ((key == "flags" || key == "Features") && flags_line.empty()) flags_line = value;
    if (key == "physical id") physical_id = value;
    if (key == "core id") cores.insert({physical_id, value});
  }
  for (const auto& f : split_words(flags_line)) {
    if (is_numerics_flag(f)) cpu->add_flags(f);
  }
  if (cpu->model().empty()) add_unavailable(env, "cpu.model", "no 'model name' in /proc/cpuinfo");
  cpu->set_logical_cores(static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  if (!cores.empty()) {
    cpu->set_physical_cores(static_cast<int>(cores.size()));
  } else {
    add_unavailable(env, "cpu.physical_cores", "no 'core id' in /proc/cpuinfo");
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    cpu->set_affinity_cores(CPU_COUNT(&set));
  } else {
    add_unavailable(env, "cpu.affinity_cores", "sched_getaffinity failed");
  }
  // cgroup v2 first ("max 100000" or "<quota> <period>"), then v1.
  std::string max = read_first_line("/sys/fs/cgroup/cpu.max");
  if (max.empty()) {
    const std::string quota = read_first_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    const std::string period = read_first_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    if (!quota.empty() && !period.empty()) max = (quota == "-1" ? "max" : quota) + " " + period;
  }
  if (max.empty()) {
    add_unavailable(env, "cpu.cgroup_cpu_limit", "no cgroup cpu.max or cpu.cfs_quota_us readable");
    return;
  }
  cpu->set_cgroup_cpu_limit(max);
  std::istringstream parts(max);
  std::string quota, period;
  parts >> quota >> period;
  if (quota != "max" && !period.empty()) {
    try {
      cpu->set_cgroup_cpus(std::stod(quota) / std::stod(period));
    } catch (const std::exception&) {
      add_unavailable(env, "cpu.cgroup_cpus", "cannot parse '" + max + "'");
    }
  }
}

}  // namespace repro::internal
