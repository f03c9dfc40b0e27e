// Renderings of an Environment: the aligned text table of `repro env`, and JSON.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <sstream>

#include "repro/environment.h"
#include "repro/error.h"
#include "util/strings.h"

namespace repro {
namespace {

class Table {
 public:
  void section(const std::string& title) { rows_.push_back({Kind::kSection, title, ""}); }
  void row(const std::string& key, const std::string& value) {
    rows_.push_back({Kind::kRow, key, value.empty() ? "-" : value});
    width_ = std::max(width_, key.size());
  }
  void row(const std::string& key, long long value) { row(key, std::to_string(value)); }
  // Text printed as it is, indented (torch's multi-line build configuration).
  void block(const std::string& text) { rows_.push_back({Kind::kBlock, "", text}); }

  std::string str() const {
    std::ostringstream out;
    for (const auto& r : rows_) {
      if (r.kind == Kind::kSection) {
        out << (out.tellp() > 0 ? "\n" : "") << r.key << "\n";
        continue;
      }
      if (r.kind == Kind::kBlock) {
        std::istringstream lines(r.value);
        for (std::string line; std::getline(lines, line);) out << "  " << line << "\n";
        continue;
      }
      out << "  " << r.key << std::string(width_ - r.key.size() + 2, ' ') << r.value << "\n";
    }
    return out.str();
  }

 private:
  enum class Kind { kSection, kRow, kBlock };
  struct Row {
    Kind kind;
    std::string key;
    std::string value;
  };
  std::vector<Row> rows_;
  std::size_t width_ = 0;
};

std::string yes_no(bool b) { return b ? "yes" : "no"; }

}  // namespace

std::string format_environment(const proto::Environment& env) {
  Table t;
  t.section("torch");
  t.row("version (headers)", env.torch().version());
  t.row("package", env.torch().package_version());
  t.row("cpu capability", env.torch().cpu_capability());
  t.row("mkldnn", env.torch().mkldnn_version());
  t.row("openmp", env.torch().openmp_version());
  t.row("mkl", env.torch().mkl_version());
  t.row("cuda available", yes_no(env.torch().cuda_available()));
  t.row("deterministic algorithms", yes_no(env.torch().deterministic_algorithms()));

  t.section("threads");
  t.row("intra-op", env.threads().intra_op());
  t.row("intra-op because", env.threads().intra_op_source());
  t.row("inter-op", env.threads().inter_op());
  t.row("omp max threads", env.threads().omp_max_threads());
  t.row("hardware concurrency", env.threads().hardware_concurrency());

  t.section("libraries in this process");
  for (const auto& lib : env.libraries()) {
    t.row(lib.role(), lib.real_path() + (lib.version().empty() ? "" : "  (" + lib.version() + ")"));
  }

  t.section("oneDNN");
  t.row("version", env.onednn().version());
  t.row("effective ISA", env.onednn().effective_isa());
  t.row("max ISA pin", env.onednn().max_cpu_isa());

  t.section("BLAS and libm kernels");
  t.row("BLAS", env.blas().implementation().empty() ? "(none loaded)" : env.blas().implementation());
  if (!env.blas().core().empty()) {
    const bool chosen = env.blas().dynamic_arch() && env.numerics_env().count("OPENBLAS_CORETYPE") == 0;
    t.row("BLAS core", env.blas().core() + (chosen ? "  (chosen from the CPU: DYNAMIC_ARCH)" : ""));
  }
  t.row("libm variant", env.libm().dispatch());
  if (!env.libm().hwcaps().empty()) t.row("glibc hwcaps mask", env.libm().hwcaps());

  t.section("numerics variables");
  std::vector<std::pair<std::string, std::string>> vars(env.numerics_env().begin(), env.numerics_env().end());
  std::sort(vars.begin(), vars.end());
  if (vars.empty()) t.row("(none set)", "");
  for (const auto& [k, v] : vars) t.row(k, v);

  t.section("build");
  t.row("reprotorch", env.build().reprotorch_version());
  t.row("compiler", env.build().compiler());
  t.row("C++ standard", env.build().cxx_standard());
  t.row("C++11 ABI", yes_no(env.build().cxx11_abi()));
  t.row("build type", env.build().build_type());
  t.row("protobuf", env.build().protobuf_version());
  t.row("spdlog", env.build().spdlog_version());
  t.row("boost", env.build().boost_version());
  t.row("xxhash", env.build().xxhash_version());
  t.row("zlib", env.build().zlib_version());
  t.row("environment.lock sha256", env.build().lock_sha256());

  t.section("os");
  t.row("name", env.os().name());
  t.row("kernel", env.os().kernel());
  t.row("machine", env.os().machine());
  t.row("glibc", env.os().glibc());
  t.row("hostname", env.os().hostname());

  t.section("cpu");
  t.row("model", env.cpu().model());
  t.row("vendor", env.cpu().vendor());
  t.row("SIMD flags", internal::join(env.cpu().flags(), " "));
  t.row("logical cores", env.cpu().logical_cores());
  t.row("physical cores", env.cpu().physical_cores());
  t.row("affinity cores", env.cpu().affinity_cores());
  t.row("cgroup cpu.max", env.cpu().cgroup_cpu_limit());

  t.section("cuda");
  t.row("available", yes_no(env.cuda().available()));
  if (env.cuda().available()) {
    t.row("runtime", env.cuda().runtime_version());
    t.row("cudnn", env.cuda().cudnn_version());
    for (const auto& d : env.cuda().devices()) {
      t.row("device " + std::to_string(d.index()), d.name() + " (sm " + d.compute_capability() + ")");
    }
  }

  t.section("packages (locked / installed)");
  for (const auto& p : env.packages()) {
    const std::string mark = p.installed() == p.locked() ? "" : "   <-- differs from lock";
    t.row(p.name(), p.locked() + " / " + (p.installed().empty() ? "not installed" : p.installed()) + mark);
  }

  t.section("identity");
  t.row("executable", env.identity().executable_path());
  t.row("executable xxh3", env.identity().executable_xxh3());
  t.row("captured at", env.captured_at());

  if (!env.unavailable().empty()) {
    t.section("unavailable");
    for (const auto& u : env.unavailable()) t.row(u.fact(), u.reason());
  }
  t.section("build configuration (at::show_config)");
  t.block(env.torch().build_config());
  return t.str();
}

std::string to_json(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) throw Error::internal("cannot render " + message.GetTypeName() + " as JSON: " + status.ToString());
  return out;
}

}  // namespace repro
