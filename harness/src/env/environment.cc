#include "repro/environment.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <google/protobuf/stubs/common.h>
#include <spdlog/version.h>
#include <torch/version.h>
#include <xxhash.h>
#include <zlib.h>
#include <boost/version.hpp>

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <thread>

#include "env/build_info.h"
#include "env/environment_facts.h"
#include "env/lockfile.h"
#include "repro/data.h"
#include "repro/digest.h"
#include "repro/error.h"
#include "util/fileutil.h"
#include "util/input_file.h"

extern char** environ;

namespace repro {
namespace internal {

void add_unavailable(proto::Environment* env, const std::string& fact, const std::string& reason) {
  auto* u = env->add_unavailable();
  u->set_fact(fact);
  u->set_reason(reason);
}

}  // namespace internal

namespace {

using internal::add_unavailable;

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// at::native::get_cpu_capability() is not exported by every LibTorch build (Debian's 1.13 hides
// it), but show_config() reports the capability in use in the same words in 1.13 and 2.x.
std::string cpu_capability_name(const std::string& config) {
  const std::string key = "CPU capability usage: ";
  const auto at = config.find(key);
  if (at == std::string::npos) return "";
  std::string value = config.substr(at + key.size(), config.find('\n', at) - at - key.size());
  return value == "NO AVX" ? "DEFAULT" : value;
}

void capture_torch(proto::TorchInfo* t, const std::map<std::string, std::string>& installed) {
  t->set_version(TORCH_VERSION);
  // The runtime package: Debian names it libtorch<major.minor> (libtorch1.13).
  for (const auto& [name, version] : installed) {
    if (name.rfind("libtorch", 0) == 0 && name.size() > 8 && std::isdigit(static_cast<unsigned char>(name[8]))) {
      t->set_package_version(version);
    }
  }
  t->set_build_config(at::show_config());
  t->set_cxx_flags(at::get_cxx_flags());
  t->set_cpu_capability(cpu_capability_name(t->build_config()));
  t->set_mkldnn_version(at::get_mkldnn_version());
  t->set_openmp_version(at::get_openmp_version());
  t->set_mkl_version(at::get_mkl_version());
  t->set_cuda_available(at::hasCUDA());
  t->set_deterministic_algorithms(at::globalContext().deterministicAlgorithms());
}

void capture_threads(proto::Threads* th, const proto::Environment& env) {
  th->set_intra_op(at::get_num_threads());
  th->set_inter_op(at::get_num_interop_threads());
  th->set_hardware_concurrency(static_cast<int>(std::thread::hardware_concurrency()));
  using OmpMax = int (*)();
  if (auto fn = reinterpret_cast<OmpMax>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"))) {
    th->set_omp_max_threads(fn());
  }
  const auto& vars = env.numerics_env();
  if (vars.count("OMP_NUM_THREADS")) {
    th->set_intra_op_source("OMP_NUM_THREADS=" + vars.at("OMP_NUM_THREADS"));
  } else if (vars.count("MKL_NUM_THREADS")) {
    th->set_intra_op_source("MKL_NUM_THREADS=" + vars.at("MKL_NUM_THREADS"));
  } else {
    // LibTorch 1.x: hardware_concurrency()/2 on x86-64; 2.x: physical cores as cpuinfo counts them.
    const int hw = th->hardware_concurrency();
#if TORCH_VERSION_MAJOR < 2 && (defined(__x86_64__) || defined(_M_X64))
    th->set_intra_op_source("LibTorch default: hardware_concurrency()/2 = " + std::to_string(hw / 2) +
                            " on x86-64; depends on the machine");
#else
    th->set_intra_op_source("LibTorch default: physical cores (" + std::to_string(env.cpu().physical_cores()) +
                            " here, of " + std::to_string(hw) + " logical); depends on the machine");
#endif
  }
}

void capture_build(proto::Build* b) {
  const auto& info = internal::build_info();
#if defined(__clang__)
  b->set_compiler(std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
  b->set_compiler(std::string("gcc ") + __VERSION__);
#else
  b->set_compiler("unknown");
#endif
  b->set_cxx_standard(__cplusplus);
#if defined(_GLIBCXX_USE_CXX11_ABI)
  b->set_cxx11_abi(_GLIBCXX_USE_CXX11_ABI != 0);
#endif
  b->set_build_type(info.build_type);
  b->set_reprotorch_version(info.version);
  b->set_protobuf_version(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
  b->set_spdlog_version(std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
                        std::to_string(SPDLOG_VER_PATCH));
  b->set_boost_version(std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
                       std::to_string(BOOST_VERSION % 100));
  b->set_xxhash_version(std::to_string(XXH_VERSION_MAJOR) + "." + std::to_string(XXH_VERSION_MINOR) + "." +
                        std::to_string(XXH_VERSION_RELEASE));
  b->set_zlib_version(zlibVersion());
  b->set_lock_sha256(info.lock_sha256);
}

void capture_packages(proto::Environment* env, const std::map<std::string, std::string>& installed) {
  const auto& info = internal::build_info();
  std::vector<internal::LockedPackage> locked;
  try {
    locked = internal::parse_lock(info.lock_content, "environment.lock (as built)");
  } catch (const Error& e) {
    add_unavailable(env, "packages", e.what());
    return;
  }
  for (const auto& p : locked) {
    auto* pv = env->add_packages();
    pv->set_name(p.name);
    pv->set_locked(p.version);
    if (auto it = installed.find(p.name); it != installed.end()) pv->set_installed(it->second);
  }
}

void capture_identity(proto::Identity* id, proto::Environment* env) {
  static const proto::Identity cached = [] {
    proto::Identity i;
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return i;
    i.set_executable_path(std::string(buf, static_cast<std::size_t>(n)));
    try {
      // Through the digest cache (repro/data.h): an executable of hundreds of MB (debug info)
      // is read once per build, not at every start; --rehash / REPRO_REHASH=1 reads it again.
      const PathDigest d = digest_path(i.executable_path());
      i.set_executable_xxh3(d.xxh3);
      i.set_executable_size(static_cast<std::int64_t>(d.size));
    } catch (const Error&) {
      // left empty; reported below
    }
    return i;
  }();
  *id = cached;
  if (id->executable_xxh3().empty()) add_unavailable(env, "identity.executable_xxh3", "cannot read /proc/self/exe");
}

}  // namespace

bool is_numerics_variable(const std::string& name) {
  static const char* const kPrefixes[] = {"OMP_",    "MKL_",         "OPENBLAS_", "GOTO",   "KMP_",
                                          "ONEDNN_", "DNNL_",        "CUDA_",     "TORCH_", "CUBLAS_",
                                          "CUDNN_",  "NVIDIA_TF32_", "ATEN_",     "BLIS_",  "GOMP_"};
  for (const char* p : kPrefixes) {
    if (name.rfind(p, 0) == 0) return true;
  }
  return name == "LD_PRELOAD" || name == "LD_LIBRARY_PATH" || name == "GLIBC_TUNABLES";
}

proto::Environment capture_environment() {
  proto::Environment env;
  env.set_schema_version(kEnvironmentSchemaVersion);
  env.set_captured_at(now_rfc3339());
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv = *e;
    const auto eq = kv.find('=');
    if (eq != std::string::npos && is_numerics_variable(kv.substr(0, eq))) {
      (*env.mutable_numerics_env())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  const auto installed = internal::installed_packages();
  if (installed.empty()) add_unavailable(&env, "packages.installed", "cannot read /var/lib/dpkg/status");
  capture_torch(env.mutable_torch(), installed);
  internal::capture_os(env.mutable_os(), &env);
  internal::capture_cpu(env.mutable_cpu(), &env);
  capture_threads(env.mutable_threads(), env);
  internal::capture_libraries(&env);
  internal::capture_onednn(env.mutable_onednn(), &env);
  internal::capture_blas(env.mutable_blas(), &env);
  internal::capture_libm(env.mutable_libm());
  internal::capture_cuda(env.mutable_cuda(), &env);
  capture_build(env.mutable_build());
  capture_packages(&env, installed);
  capture_identity(env.mutable_identity(), &env);
  return env;
}

proto::LockCheck verify_lock_file(const std::string& lock_path, const std::string& dpkg_status) {
  const std::string content = internal::read_input_file(lock_path, "lock file", internal::kMaxTextInputBytes);
  const auto locked = internal::parse_lock(content, lock_path);
  const auto installed = internal::installed_packages(dpkg_status);
  proto::LockCheck check;
  check.set_lock_path(lock_path);
  for (const auto& p : locked) {
    const auto it = installed.find(p.name);
    const std::string have = it == installed.end() ? "" : it->second;
    if (have == p.version) continue;
    auto* m = check.add_mismatches();
    m->set_name(p.name);
    m->set_locked(p.version);
    m->set_installed(have);
  }
  check.set_matches(check.mismatches().empty());
  return check;
}

}  // namespace repro
