// header_differences, environment part: torch, threads, libraries, oneDNN, numerics variables,
// build, OS, CPU and CUDA. Facts that differ on every run (captured_at) are not compared.
#include <map>
#include <set>
#include <string>

#include "compare/compare_differences.h"

namespace repro::internal {
namespace {

std::string join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::set<std::string> sorted(items.begin(), items.end());
  std::string out;
  for (const auto& s : sorted) out += (out.empty() ? "" : " ") + s;
  return out;
}

void add_torch(const proto::TorchInfo& a, const proto::TorchInfo& b, DifferenceList& out) {
  out.add("environment", "environment.torch.version", a.version(), b.version(), true, "torch version",
          "other kernels");
  out.add("environment", "environment.torch.package_version", a.package_version(), b.package_version(), true,
          "LibTorch package", "other kernels");
  out.add("environment", "environment.torch.cpu_capability", a.cpu_capability(), b.cpu_capability(), true,
          "ATen CPU capability", "other vectorised kernels compute the ops");
  out.add("environment", "environment.torch.mkldnn_version", a.mkldnn_version(), b.mkldnn_version(), true,
          "oneDNN version (torch)", "other convolution kernels");
  out.add("environment", "environment.torch.openmp_version", a.openmp_version(), b.openmp_version(), true,
          "OpenMP version", "");
  out.add("environment", "environment.torch.mkl_version", a.mkl_version(), b.mkl_version(), true, "MKL version",
          "other BLAS kernels");
  if (a.build_config() != b.build_config()) {
    out.add("environment", "environment.torch.build_config", a.build_config(), b.build_config(), true,
            "torch build configuration", "torch was built differently");
  }
}

void add_threads(const proto::Threads& a, const proto::Threads& b, DifferenceList& out) {
  out.add("environment", "environment.threads.intra_op", std::to_string(a.intra_op()), std::to_string(b.intra_op()),
          true, "intra-op threads", "parallel reductions may sum in another order");
  out.add("environment", "environment.threads.inter_op", std::to_string(a.inter_op()), std::to_string(b.inter_op()),
          true, "inter-op threads", "independent operations may run in another order");
  out.add("environment", "environment.threads.omp_max_threads", std::to_string(a.omp_max_threads()),
          std::to_string(b.omp_max_threads()), true, "OpenMP threads", "parallel reductions may sum in another order");
}

void add_libraries(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  std::map<std::string, std::pair<const proto::LoadedLibrary*, const proto::LoadedLibrary*>> by_role;
  for (const auto& l : a.libraries()) by_role[l.role()].first = &l;
  for (const auto& l : b.libraries()) by_role[l.role()].second = &l;
  for (const auto& [role, libs] : by_role) {
    const std::string field = "environment.libraries[" + role + "]";
    const auto* la = libs.first;
    const auto* lb = libs.second;
    if (la == nullptr || lb == nullptr) {
      out.add("environment", field, la ? la->real_path() : "", lb ? lb->real_path() : "", true, role + " library",
              "loaded in only one run");
      continue;
    }
    out.add("environment", field + ".real_path", la->real_path(), lb->real_path(), true, role + " library changed",
            "");
    out.add("environment", field + ".version", la->version(), lb->version(), true, role + " library version", "");
  }
}

void add_numerics_env(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  std::map<std::string, std::pair<std::string, std::string>> vars;
  for (const auto& [k, v] : a.numerics_env()) vars[k].first = v;
  for (const auto& [k, v] : b.numerics_env()) vars[k].second = v;
  for (const auto& [name, v] : vars) {
    const bool in_a = a.numerics_env().count(name) > 0, in_b = b.numerics_env().count(name) > 0;
    const std::string what = !in_a ? "added" : !in_b ? "removed" : "changed";
    out.add("environment", "environment.numerics_env[" + name + "]", in_a ? v.first : "(unset)",
            in_b ? v.second : "(unset)", true, name, "numerics variable " + what);
  }
}

void add_system(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  out.add("environment", "environment.build.compiler", a.build().compiler(), b.build().compiler(), true, "compiler",
          "the harness's own arithmetic may be compiled differently");
  out.add("environment", "environment.build.build_type", a.build().build_type(), b.build().build_type(), true,
          "build type", "the harness's own arithmetic may be compiled differently");
  out.add("environment", "environment.build.lock_sha256", a.build().lock_sha256(), b.build().lock_sha256(), true,
          "environment.lock", "built against another locked package set");
  out.add("environment", "environment.cpu.model", a.cpu().model(), b.cpu().model(), true, "CPU model",
          "kernels may take other code paths");
  out.add("environment", "environment.cpu.flags", join(a.cpu().flags()), join(b.cpu().flags()), true, "CPU flags",
          "other instruction sets available to kernels");
  out.add("environment", "environment.os.glibc", a.os().glibc(), b.os().glibc(), true, "glibc",
          "libm may round differently");
  out.add("environment", "environment.os.name", a.os().name(), b.os().name(), false, "OS", "");
  out.add("environment", "environment.os.kernel", a.os().kernel(), b.os().kernel(), false, "kernel", "");
  out.add("environment", "environment.os.hostname", a.os().hostname(), b.os().hostname(), false, "hostname", "");
  out.add("environment", "environment.cpu.cgroup_cpu_limit", a.cpu().cgroup_cpu_limit(), b.cpu().cgroup_cpu_limit(),
          false, "cgroup CPU limit", "");
}

void add_cuda(const proto::Cuda& a, const proto::Cuda& b, DifferenceList& out) {
  out.add("environment", "environment.cuda.available", a.available() ? "true" : "false",
          b.available() ? "true" : "false", true, "CUDA available", "");
  out.add("environment", "environment.cuda.runtime_version", a.runtime_version(), b.runtime_version(), true,
          "CUDA runtime", "");
  out.add("environment", "environment.cuda.cudnn_version", a.cudnn_version(), b.cudnn_version(), true, "cuDNN", "");
  const auto devices = [](const proto::Cuda& c) {
    std::string out;
    for (const auto& d : c.devices()) out += (out.empty() ? "" : ", ") + d.name() + " (" + d.compute_capability() + ")";
    return out;
  };
  out.add("environment", "environment.cuda.devices", devices(a), devices(b), true, "CUDA devices",
          "other GPUs compute differently");
}

void add_packages(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  std::map<std::string, std::pair<std::string, std::string>> installed;
  for (const auto& p : a.packages()) installed[p.name()].first = p.installed();
  for (const auto& p : b.packages()) installed[p.name()].second = p.installed();
  for (const auto& [name, v] : installed) {
    out.add("environment", "environment.packages[" + name + "]", v.first, v.second, true, name,
            "another installed package version");
  }
}

}  // namespace

void add_environment_differences(const proto::Environment& a, const proto::Environment& b, DifferenceList& out) {
  add_torch(a.torch(), b.torch(), out);
  add_threads(a.threads(), b.threads(), out);
  add_libraries(a, b, out);
  out.add("environment", "environment.onednn.effective_isa", a.onednn().effective_isa(), b.onednn().effective_isa(),
          true, "oneDNN ISA", "oneDNN uses other instructions");
  out.add("environment", "environment.onednn.version", a.onednn().version(), b.onednn().version(), true,
          "oneDNN version", "other convolution kernels");
  add_numerics_env(a, b, out);
  add_system(a, b, out);
  add_cuda(a.cuda(), b.cuda(), out);
  add_packages(a, b, out);
}

}  // namespace repro::internal
