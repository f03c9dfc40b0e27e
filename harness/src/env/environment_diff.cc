#include "env/environment_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "util/strings.h"

namespace repro::internal {
namespace {

// Collects the facts that differ; equal values are skipped here, so each add_* lists facts only.
class Differences {
 public:
  void add(const std::string& field, const std::string& a, const std::string& b, bool affects_numerics,
           const std::string& what, const std::string& why) {
    if (a != b) items_.push_back({field, a, b, affects_numerics, what, why});
  }
  std::vector<EnvironmentDifference> take() { return std::move(items_); }

 private:
  std::vector<EnvironmentDifference> items_;
};

constexpr bool kNumerics = true;
constexpr bool kNotNumerics = false;

std::string sorted_words(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return join(std::set<std::string>(items.begin(), items.end()), " ");
}

void add_torch(const proto::TorchInfo& a, const proto::TorchInfo& b, Differences& out) {
  out.add("torch.version", a.version(), b.version(), kNumerics, "torch version", "other kernels");
  out.add("torch.package_version", a.package_version(), b.package_version(), kNumerics, "LibTorch package",
          "other kernels");
  out.add("torch.cpu_capability", a.cpu_capability(), b.cpu_capability(), kNumerics, "ATen CPU capability",
          "other vectorised kernels compute the ops");
  out.add("torch.mkldnn_version", a.mkldnn_version(), b.mkldnn_version(), kNumerics, "oneDNN version (torch)",
          "other convolution kernels");
  out.add("torch.openmp_version", a.openmp_version(), b.openmp_version(), kNumerics, "OpenMP version", "");
  out.add("torch.mkl_version", a.mkl_version(), b.mkl_version(), kNumerics, "MKL version", "other BLAS kernels");
  // at::show_config() names the capability in use ("CPU capability usage: AVX2"), which is
  // torch.cpu_capability's difference, not the build's.
  auto build_only = [](const std::string& config) {
    std::string out;
    for (const auto& line : split(config, '\n')) {
      if (line.find("CPU capability usage:") == std::string::npos) out += line + "\n";
    }
    return out;
  };
  if (build_only(a.build_config()) != build_only(b.build_config())) {
    out.add("torch.build_config", a.build_config(), b.build_config(), kNumerics, "torch build configuration",
            "torch was built differently");
  }
}

void add_threads(const proto::Threads& a, const proto::Threads& b, Differences& out) {
  out.add("threads.intra_op", std::to_string(a.intra_op()), std::to_string(b.intra_op()), kNumerics, "intra-op threads",
          "parallel reductions may sum in another order");
  out.add("threads.inter_op", std::to_string(a.inter_op()), std::to_string(b.inter_op()), kNumerics, "inter-op threads",
          "independent operations may run in another order");
  out.add("threads.omp_max_threads", std::to_string(a.omp_max_threads()), std::to_string(b.omp_max_threads()),
          kNumerics, "OpenMP threads", "parallel reductions may sum in another order");
}

// "/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13" -> "libtorch_cpu".
std::string stem_of(const std::string& path) {
  const std::string file = path.substr(path.rfind('/') + 1);
  return file.substr(0, file.find(".so"));
}

std::string path_of(const proto::LoadedLibrary& lib) { return lib.real_path().empty() ? lib.name() : lib.real_path(); }

using Libraries = std::vector<const proto::LoadedLibrary*>;

// The libraries' paths, sorted, and their versions in the same order; ", " between items.
// A DYNAMIC_ARCH OpenBLAS reports the core it picked inside its version ("OpenBLAS 0.3.21 ...
// DYNAMIC_ARCH ... Zen MAX_THREADS=64"): that is blas.core's difference, not the library's.
std::string version_without_core(const std::string& version, const std::string& core) {
  if (core.empty()) return version;
  const std::string word = " " + core + " ";
  const auto at = version.find(word);
  return at == std::string::npos ? version : version.substr(0, at) + " " + version.substr(at + word.size());
}

std::pair<std::string, std::string> paths_and_versions(Libraries libs, const std::string& core) {
  std::sort(libs.begin(), libs.end(), [](const auto* x, const auto* y) { return path_of(*x) < path_of(*y); });
  std::string paths, versions;
  for (const auto* l : libs) {
    paths += (paths.empty() ? "" : ", ") + path_of(*l);
    versions += (versions.empty() ? "" : ", ") + version_without_core(l->version(), core);
  }
  return {paths, versions};
}

void add_library(const std::string& field, const std::string& name, const Libraries& a, const Libraries& b,
                 const std::pair<std::string, std::string>& cores, Differences& out) {
  const auto [paths_a, versions_a] = paths_and_versions(a, cores.first);
  const auto [paths_b, versions_b] = paths_and_versions(b, cores.second);
  if (a.empty() || b.empty()) {
    out.add(field, paths_a, paths_b, kNumerics, name + " library", "loaded in only one run");
    return;
  }
  out.add(field + ".real_path", paths_a, paths_b, kNumerics, name + " library changed", "");
  out.add(field + ".version", versions_a, versions_b, kNumerics, name + " library version", "");
}

// Every library of every role, paired as environment_diff.h says.
void add_libraries(const proto::Environment& a, const proto::Environment& b, Differences& out) {
  const std::pair<std::string, std::string> cores = {a.blas().core(), b.blas().core()};
  std::map<std::string, std::pair<Libraries, Libraries>> by_role;
  for (const auto& l : a.libraries()) by_role[l.role()].first.push_back(&l);
  for (const auto& l : b.libraries()) by_role[l.role()].second.push_back(&l);
  for (const auto& [role, libs] : by_role) {
    if (libs.first.size() <= 1 && libs.second.size() <= 1) {
      add_library("libraries[" + role + "]", role, libs.first, libs.second, cores, out);
      continue;
    }
    std::map<std::string, std::pair<Libraries, Libraries>> by_stem;
    for (const auto* l : libs.first) by_stem[stem_of(l->name())].first.push_back(l);
    for (const auto* l : libs.second) by_stem[stem_of(l->name())].second.push_back(l);
    for (const auto& [stem, pair] : by_stem) {
      add_library("libraries[" + role + ":" + stem + "]", stem, pair.first, pair.second, cores, out);
    }
  }
}

void add_onednn(const proto::OneDnn& a, const proto::OneDnn& b, Differences& out) {
  out.add("onednn.effective_isa", a.effective_isa(), b.effective_isa(), kNumerics, "oneDNN ISA",
          "oneDNN uses other instructions");
  out.add("onednn.version", a.version(), b.version(), kNumerics, "oneDNN version", "other convolution kernels");
}

// Facts added after the first records were made: a record without them has them empty, which says
// nothing, so they are compared only when both runs know them.
void add_kernels(const proto::Environment& a, const proto::Environment& b, Differences& out) {
  if (a.libm().dispatch().empty() || b.libm().dispatch().empty()) return;
  out.add("blas.implementation", a.blas().implementation(), b.blas().implementation(), kNumerics, "BLAS",
          "another BLAS computes the matmuls");
  out.add("blas.core", a.blas().core(), b.blas().core(), kNumerics, "OpenBLAS core",
          "other sgemm kernels sum in another order");
  out.add("libm.dispatch", a.libm().dispatch(), b.libm().dispatch(), kNumerics, "libm variant",
          "glibc's exp, log, pow, sin... round differently with and without FMA");
}

void add_numerics_env(const proto::Environment& a, const proto::Environment& b, Differences& out) {
  std::set<std::string> names;
  for (const auto& [k, v] : a.numerics_env()) names.insert(k);
  for (const auto& [k, v] : b.numerics_env()) names.insert(k);
  for (const auto& name : names) {
    const auto ia = a.numerics_env().find(name), ib = b.numerics_env().find(name);
    const bool in_a = ia != a.numerics_env().end(), in_b = ib != b.numerics_env().end();
    const std::string what = !in_a ? "added" : !in_b ? "removed" : "changed";
    out.add("numerics_env[" + name + "]", in_a ? ia->second : "(unset)", in_b ? ib->second : "(unset)", kNumerics, name,
            "numerics variable " + what);
  }
}

void add_system(const proto::Environment& a, const proto::Environment& b, Differences& out) {
  out.add("build.compiler", a.build().compiler(), b.build().compiler(), kNumerics, "compiler",
          "the harness's own arithmetic may be compiled differently");
  out.add("build.build_type", a.build().build_type(), b.build().build_type(), kNumerics, "build type",
          "the harness's own arithmetic may be compiled differently");
  out.add("build.lock_sha256", a.build().lock_sha256(), b.build().lock_sha256(), kNumerics, "environment.lock",
          "built against another locked package set");
  out.add("cpu.model", a.cpu().model(), b.cpu().model(), kNumerics, "CPU model", "kernels may take other code paths");
  out.add("cpu.flags", sorted_words(a.cpu().flags()), sorted_words(b.cpu().flags()), kNumerics, "CPU flags",
          "other instruction sets available to kernels");
  out.add("os.glibc", a.os().glibc(), b.os().glibc(), kNumerics, "glibc", "libm may round differently");
  out.add("os.name", a.os().name(), b.os().name(), kNotNumerics, "OS", "");
  out.add("os.kernel", a.os().kernel(), b.os().kernel(), kNotNumerics, "kernel", "");
  out.add("os.hostname", a.os().hostname(), b.os().hostname(), kNotNumerics, "hostname", "");
  out.add("cpu.cgroup_cpu_limit", a.cpu().cgroup_cpu_limit(), b.cpu().cgroup_cpu_limit(), kNotNumerics,
          "cgroup CPU limit", "");
}

void add_cuda(const proto::Cuda& a, const proto::Cuda& b, Differences& out) {
  out.add("cuda.available", a.available() ? "true" : "false", b.available() ? "true" : "false", kNumerics,
          "CUDA available", "");
  out.add("cuda.runtime_version", a.runtime_version(), b.runtime_version(), kNumerics, "CUDA runtime", "");
  out.add("cuda.cudnn_version", a.cudnn_version(), b.cudnn_version(), kNumerics, "cuDNN", "");
  const auto devices = [](const proto::Cuda& c) {
    std::string out;
    for (const auto& d : c.devices()) out += (out.empty() ? "" : ", ") + d.name() + " (" + d.compute_capability() + ")";
    return out;
  };
  out.add("cuda.devices", devices(a), devices(b), kNumerics, "CUDA devices", "other GPUs compute differently");
}

void add_packages(const proto::Environment& a, const proto::Environment& b, Differences& out) {
  std::map<std::string, std::pair<std::string, std::string>> installed;
  for (const auto& p : a.packages()) installed[p.name()].first = p.installed();
  for (const auto& p : b.packages()) installed[p.name()].second = p.installed();
  for (const auto& [name, v] : installed) {
    out.add("packages[" + name + "]", v.first, v.second, kNumerics, name, "another installed package version");
  }
}

bool fits_a_line(const std::string& value) { return value.size() <= 200 && value.find('\n') == std::string::npos; }

}  // namespace

std::vector<EnvironmentDifference> environment_differences(const proto::Environment& a, const proto::Environment& b) {
  Differences out;
  add_torch(a.torch(), b.torch(), out);
  add_threads(a.threads(), b.threads(), out);
  add_libraries(a, b, out);
  add_onednn(a.onednn(), b.onednn(), out);
  add_kernels(a, b, out);
  add_numerics_env(a, b, out);
  add_system(a, b, out);
  add_cuda(a.cuda(), b.cuda(), out);
  add_packages(a, b, out);
  return out.take();
}

std::vector<std::string> numerics_differences(const proto::Environment& before, const proto::Environment& after) {
  std::vector<std::string> out;
  for (const auto& d : environment_differences(before, after)) {
    if (!d.affects_numerics) continue;
    if (!fits_a_line(d.a) || !fits_a_line(d.b)) {
      out.push_back(d.field + ": changed (long value; both environments are recorded)");
      continue;
    }
    out.push_back(d.field + ": " + (d.a.empty() ? "(none)" : d.a) + " -> " + (d.b.empty() ? "(none)" : d.b));
  }
  return out;
}

}  // namespace repro::internal
