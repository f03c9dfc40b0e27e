// Shared libraries actually loaded in this process, oneDNN's ISA and CUDA devices. Everything
// is asked of the loaded libraries through dlsym, so reprotorch needs none of their headers
// and reports what runs, not what a build system found.
#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "env/cpu_features.h"
#include "env/environment_facts.h"

namespace repro::internal {
namespace {

struct LoadedObject {
  std::string name;
  std::string real_path;
};

std::vector<LoadedObject> loaded_objects() {
  std::vector<LoadedObject> objects;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
          char real[PATH_MAX];
          LoadedObject o{info->dlpi_name, ""};
          if (realpath(info->dlpi_name, real) != nullptr) o.real_path = real;
          static_cast<std::vector<LoadedObject>*>(data)->push_back(o);
        }
        return 0;
      },
      &objects);
  return objects;
}

// The numerics role of a library, from its file name; empty for libraries that play none.
std::string role_of(const std::string& path) {
  static const std::pair<std::regex, const char*> kRoles[] = {
      {std::regex("/libopenblas[^/]*$"), "blas"},
      {std::regex("/libblas[^/]*$"), "blas"},
      {std::regex("/libblis[^/]*$"), "blas"},
      {std::regex("/libmkl_[^/]*$"), "mkl"},
      {std::regex("/liblapack[^/]*$"), "lapack"},
      {std::regex("/lib(g|i)?omp[^/]*$"), "openmp"},
      {std::regex("/lib(dnnl|mkldnn)[^/]*$"), "onednn"},
      {std::regex("/libtorch[^/]*$"), "torch"},
      {std::regex("/libc10[^/]*$"), "c10"},
      {std::regex("/libsleef[^/]*$"), "sleef"},
      {std::regex("/libXNNPACK[^/]*$"), "xnnpack"},
      {std::regex("/libcpuinfo[^/]*$"), "cpuinfo"},
      {std::regex("/libprotobuf[^/]*$"), "protobuf"},
      {std::regex("/libcud(a|art|nn)[^/]*$"), "cuda"},
      {std::regex("/libcublas[^/]*$"), "cuda"},
      {std::regex("/libm\\.so[^/]*$"), "libm"},
  };
  for (const auto& [re, role] : kRoles) {
    if (std::regex_search(path, re)) return role;
  }
  return "";
}

// "libblas.so.3.11.0" -> "3.11.0".
std::string version_from_file_name(const std::string& path) {
  const auto so = path.rfind(".so.");
  return so == std::string::npos ? "" : path.substr(so + 4);
}

template <typename Fn>
Fn symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

std::string onednn_isa_name(unsigned isa) {
  // dnnl_cpu_isa_t values of oneDNN 2.x (dnnl_types.h).
  static const std::map<unsigned, const char*> kNames = {{0x0, "all"},
                                                         {0x1, "sse41"},
                                                         {0x3, "avx"},
                                                         {0x7, "avx2"},
                                                         {0xf, "avx512_mic"},
                                                         {0x1f, "avx512_mic_4ops"},
                                                         {0x27, "avx512_core"},
                                                         {0x67, "avx512_core_vnni"},
                                                         {0xe7, "avx512_core_bf16"},
                                                         {0x3e7, "avx512_core_amx"},
                                                         {0x407, "avx2_vnni"}};
  if (auto it = kNames.find(isa); it != kNames.end()) return it->second;
  char buf[32];
  std::snprintf(buf, sizeof buf, "isa bits 0x%x", isa);
  return buf;
}

}  // namespace

void capture_libraries(proto::Environment* env) {
  for (const auto& o : loaded_objects()) {
    std::string role = role_of(o.real_path.empty() ? o.name : o.real_path);
    if (role.empty()) role = role_of(o.name);
    if (role.empty()) continue;
    auto* lib = env->add_libraries();
    lib->set_role(role);
    lib->set_name(o.name);
    lib->set_real_path(o.real_path);
    std::string version = version_from_file_name(o.real_path);
    if (o.real_path.find("openblas") != std::string::npos) {
      if (auto config = symbol<char* (*)()>("openblas_get_config")) version = config();
    }
    lib->set_version(version);
  }
  bool blas = false;
  for (const auto& lib : env->libraries()) blas = blas || lib.role() == "blas" || lib.role() == "mkl";
  if (!blas) add_unavailable(env, "libraries.blas", "no BLAS library is mapped in this process");
}

void capture_onednn(proto::OneDnn* onednn, proto::Environment* env) {
  for (const char* var : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    if (const char* v = std::getenv(var); v != nullptr && onednn->max_cpu_isa().empty()) onednn->set_max_cpu_isa(v);
  }
  struct DnnlVersion {
    int major, minor, patch;
    const char* hash;
  };
  auto version = symbol<const DnnlVersion* (*)()>("dnnl_version");
  auto isa = symbol<unsigned (*)()>("dnnl_get_effective_cpu_isa");
  if (version == nullptr || isa == nullptr) {
    add_unavailable(env, "onednn", "oneDNN (libdnnl) is not loaded in this process");
    return;
  }
  const DnnlVersion* v = version();
  onednn->set_version(std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
                      (v->hash != nullptr ? std::string(" (") + v->hash + ")" : ""));
  onednn->set_effective_isa(onednn_isa_name(isa()));
}

void capture_blas(proto::Blas* blas, proto::Environment* env) {
  const proto::LoadedLibrary* found = nullptr;
  for (const auto& lib : env->libraries()) {
    if (lib.role() == "blas" || lib.role() == "mkl") found = &lib;
    if (found != nullptr) break;
  }
  if (found == nullptr) return;  // capture_libraries() said so
  const std::string path = found->real_path().empty() ? found->name() : found->real_path();
  blas->set_version(found->version());
  if (path.find("openblas") != std::string::npos) {
    blas->set_implementation("openblas");
    if (auto corename = symbol<char* (*)()>("openblas_get_corename")) blas->set_core(corename());
    blas->set_dynamic_arch(found->version().find("DYNAMIC_ARCH") != std::string::npos);
    if (blas->core().empty()) add_unavailable(env, "blas.core", "openblas_get_corename is not exported");
  } else if (found->role() == "mkl") {
    blas->set_implementation("mkl");
  } else if (path.find("blis") != std::string::npos) {
    blas->set_implementation("blis");
  } else {
    blas->set_implementation("reference");  // Debian's libblas3: plain Fortran, one code path
  }
}

void capture_libm(proto::Libm* libm) {
  // ld.so chose the variants at load, from the environment the process was started with.
  libm->set_hwcaps(hwcaps_of_tunables(variable_at_start("GLIBC_TUNABLES")));
  libm->set_dispatch(libm_dispatch_under(libm->hwcaps()));
}

void capture_cuda(proto::Cuda* cuda, proto::Environment* env) {
  const auto& hooks = at::detail::getCUDAHooks();
  cuda->set_available(hooks.hasCUDA());
  if (!cuda->available()) return;
  try {
    const long rt = hooks.versionCUDART();
    cuda->set_runtime_version(std::to_string(rt / 1000) + "." + std::to_string(rt % 1000 / 10));
  } catch (const std::exception& e) {
    add_unavailable(env, "cuda.runtime_version", e.what());
  }
  try {
    const long dnn = hooks.versionCuDNN();
    cuda->set_cudnn_version(std::to_string(dnn));
  } catch (const std::exception& e) {
    add_unavailable(env, "cuda.cudnn_version", e.what());
  }
  // Device names through the driver API's stable C ABI (libcuda), which torch has loaded.
  void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  if (driver == nullptr) driver = dlopen("libcuda.so.1", RTLD_NOW);
  auto get = [&](const char* name) { return driver != nullptr ? dlsym(driver, name) : nullptr; };
  auto dev_get = reinterpret_cast<int (*)(int*, int)>(get("cuDeviceGet"));
  auto dev_name = reinterpret_cast<int (*)(char*, int, int)>(get("cuDeviceGetName"));
  auto dev_attr = reinterpret_cast<int (*)(int*, int, int)>(get("cuDeviceGetAttribute"));
  const int count = hooks.getNumGPUs();
  for (int i = 0; i < count; ++i) {
    auto* d = cuda->add_devices();
    d->set_index(i);
    int handle = 0;
    if (dev_get == nullptr || dev_get(&handle, i) != 0) continue;
    char name[256] = {};
    if (dev_name != nullptr && dev_name(name, sizeof name - 1, handle) == 0) d->set_name(name);
    int major = 0, minor = 0;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76
    if (dev_attr != nullptr && dev_attr(&major, 75, handle) == 0 && dev_attr(&minor, 76, handle) == 0) {
      d->set_compute_capability(std::to_string(major) + "." + std::to_string(minor));
    }
  }
  if (count > 0 && driver == nullptr) add_unavailable(env, "cuda.devices.name", "libcuda.so.1 not loadable");
}

}  // namespace repro::internal
