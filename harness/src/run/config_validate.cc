// validate_config: the ranges and combinations a RunConfig must satisfy, each failure named by
// its field path.
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "env/cpu_features.h"
#include "repro/config.h"
#include "repro/determinism.h"
#include "repro/error.h"
#include "run/builtins.h"
#include "run/config_params.h"
#include "util/exact.h"
#include "util/input_file.h"
#include "util/strings.h"

namespace repro {
namespace {

// A file the run will read: a regular file (never a FIFO or device: util/input_file.h), not empty.
void require_nonempty_input(const std::string& path, const std::string& what) {
  const internal::InputFile file(path, what);
  if (file.size() == 0) throw Error::input(path + ": " + what + " is empty");
}

class Checker {
 public:
  explicit Checker(std::string origin) : origin_(std::move(origin)) {}

  template <typename T>
  void check(bool ok, const std::string& field, const std::string& rule, const T& got) {
    if (ok) return;
    std::ostringstream msg;
    msg << origin_ << ": " << field << ": " << rule << " (got " << got << ")";
    throw Error::usage(msg.str());
  }
  void one_of(const std::string& value, const std::set<std::string>& allowed, const std::string& field) {
    if (allowed.count(value)) return;
    std::string names;
    for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + (a.empty() ? "\"\"" : a);
    throw Error::usage(origin_ + ": " + field + ": unknown value '" + value + "' (expected one of " + names + ")");
  }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

void check_determinism(const proto::DeterminismConfig& d, Checker& c) {
  c.check(d.intra_op_threads() >= 1 && d.intra_op_threads() <= 1024, "determinism.intra_op_threads",
          "must be in [1, 1024]", d.intra_op_threads());
  c.check(d.inter_op_threads() >= 1 && d.inter_op_threads() <= 1024, "determinism.inter_op_threads",
          "must be in [1, 1024]", d.inter_op_threads());
  auto levels = [](const std::string& library, std::set<std::string> also) {
    for (auto& level : internal::kernel_levels(library)) also.insert(std::move(level));
    return also;
  };
  c.one_of(d.cpu_capability(), levels("aten", {""}), "determinism.cpu_capability");
  c.one_of(d.onednn_max_cpu_isa(), levels("onednn", {"", "all"}), "determinism.onednn_max_cpu_isa");
  const std::regex core("[A-Za-z][A-Za-z0-9_]*"), hwcaps("-?[A-Za-z0-9_]+(,-?[A-Za-z0-9_]+)*");
  c.check(d.blas_coretype().empty() || std::regex_match(d.blas_coretype(), core), "determinism.blas_coretype",
          "must be an OpenBLAS core name such as nehalem or haswell", "'" + d.blas_coretype() + "'");
  c.check(d.glibc_hwcaps().empty() || std::regex_match(d.glibc_hwcaps(), hwcaps), "determinism.glibc_hwcaps",
          "must be a glibc.cpu.hwcaps mask such as -AVX2,-FMA", "'" + d.glibc_hwcaps() + "'");
  if (!d.portable()) return;
  const std::pair<std::string, std::pair<std::string, const char*>> pins[] = {
      {"cpu_capability", {d.cpu_capability(), kPortableCpuCapability}},
      {"onednn_max_cpu_isa", {d.onednn_max_cpu_isa(), kPortableOnednnIsa}},
      {"blas_coretype", {d.blas_coretype(), kPortableBlasCoretype}},
      {"glibc_hwcaps", {d.glibc_hwcaps(), kPortableGlibcHwcaps}}};
  for (const auto& [field, values] : pins) {
    const bool same =
        field == "blas_coretype" ? internal::ascii_lower(values.first) == values.second : values.first == values.second;
    c.check(values.first.empty() || same, "determinism." + field,
            std::string("determinism.portable pins it to '") + values.second + "'; drop one of the two",
            "'" + values.first + "'");
  }
}

void validate_model(const proto::ModelConfig& m, Checker& c) {
  if (m.kind_case() == proto::ModelConfig::KIND_NOT_SET) {
    std::string names;
    const auto* kinds = proto::ModelConfig::descriptor()->FindOneofByName("kind");
    for (int i = 0; i < kinds->field_count(); ++i) names += (names.empty() ? "" : ", ") + kinds->field(i)->name();
    throw Error::usage(c.origin() + ": model: no model chosen (expected one of " + names + ")");
  }
  if (m.has_mlp()) {
    for (int i = 0; i < m.mlp().hidden_size(); ++i) {
      c.check(m.mlp().hidden(i) > 0, "model.mlp.hidden", "widths must be > 0", m.mlp().hidden(i));
    }
    c.check(m.mlp().dropout() >= 0 && m.mlp().dropout() < 1, "model.mlp.dropout", "must be in [0, 1)",
            m.mlp().dropout());
  }
  if (m.has_cnn()) {
    c.check(m.cnn().channels1() > 0, "model.cnn.channels1", "must be > 0", m.cnn().channels1());
    c.check(m.cnn().channels2() > 0, "model.cnn.channels2", "must be > 0", m.cnn().channels2());
    c.check(m.cnn().hidden() > 0, "model.cnn.hidden", "must be > 0", m.cnn().hidden());
    c.check(m.cnn().dropout() >= 0 && m.cnn().dropout() < 1, "model.cnn.dropout", "must be in [0, 1)",
            m.cnn().dropout());
  }
  if (m.has_torchscript()) {
    const std::string& path = m.torchscript().path();
    c.check(!path.empty(), "model.torchscript.path", "must name a TorchScript file", "\"\"");
    require_nonempty_input(path, "model file (model.torchscript.path)");
  }
}

void validate_data(const proto::DataConfig& d, Checker& c) {
  // The source and its files are checked only where the built-in sources are linked (run/builtins.h).
  const models::Builtins* built_in = internal::find_builtins();
  if (built_in != nullptr) {
    const auto sources = built_in->data_source_names();
    c.one_of(d.source(), std::set<std::string>(sources.begin(), sources.end()), "data.source");
  }
  c.check(d.split_fraction() > 0 && d.split_fraction() < 1, "data.split_fraction", "must be in (0, 1)",
          d.split_fraction());
  c.check(d.sample_limit() >= 0, "data.sample_limit", "must be >= 0 (0: all)", d.sample_limit());
  if (d.source() == "synthetic") {
    c.check(d.synthetic_samples() >= 2, "data.synthetic_samples", "must be >= 2", d.synthetic_samples());
    c.check(d.synthetic_features() >= 1, "data.synthetic_features", "must be >= 1", d.synthetic_features());
    c.check(d.synthetic_classes() >= 2, "data.synthetic_classes", "must be >= 2", d.synthetic_classes());
  }
  if (built_in == nullptr) return;
  for (const auto& file : built_in->data_files(d)) {
    require_nonempty_input(file.path, "data file (" + file.role + ")");
  }
}

void validate_optimizer(const proto::OptimizerConfig& o, Checker& c) {
  c.one_of(o.name(), {"sgd", "adam", "adamw"}, "optimizer.name");
  c.check(o.lr() > 0 && std::isfinite(o.lr()), "optimizer.lr", "must be > 0", o.lr());
  c.check(o.momentum() >= 0 && o.momentum() < 1, "optimizer.momentum", "must be in [0, 1)", o.momentum());
  c.check(!o.nesterov() || o.momentum() > 0, "optimizer.nesterov", "needs optimizer.momentum > 0", o.momentum());
  c.check(o.weight_decay() >= 0, "optimizer.weight_decay", "must be >= 0", o.weight_decay());
  c.check(o.beta1() >= 0 && o.beta1() < 1, "optimizer.beta1", "must be in [0, 1)", o.beta1());
  c.check(o.beta2() >= 0 && o.beta2() < 1, "optimizer.beta2", "must be in [0, 1)", o.beta2());
  c.check(o.eps() > 0, "optimizer.eps", "must be > 0", o.eps());
  c.one_of(o.schedule(), {"constant", "step", "cosine"}, "optimizer.schedule");
  c.check(o.step_size() > 0, "optimizer.step_size", "must be > 0", o.step_size());
  c.check(o.gamma() > 0 && o.gamma() <= 1, "optimizer.gamma", "must be in (0, 1]", o.gamma());
  c.check(o.min_lr() >= 0 && o.min_lr() < o.lr(), "optimizer.min_lr", "must be in [0, optimizer.lr)", o.min_lr());
}

void validate_train(const proto::TrainConfig& t, Checker& c) {
  c.check(t.steps() > 0, "train.steps", "must be > 0", t.steps());
  c.check(t.batch_size() > 0, "train.batch_size", "must be > 0", t.batch_size());
  c.check(t.eval_every() >= 0, "train.eval_every", "must be >= 0 (0: at the end only)", t.eval_every());
  c.check(t.checkpoint_every() >= 0, "train.checkpoint_every", "must be >= 0 (0: at the end only)",
          t.checkpoint_every());
  c.check(t.eval_batch_size() > 0, "train.eval_batch_size", "must be > 0", t.eval_batch_size());
  c.check(t.keep_checkpoints() >= 1, "train.keep_checkpoints", "must be >= 1", t.keep_checkpoints());
  c.one_of(t.on_nonfinite(), {"stop", "warn"}, "train.on_nonfinite");
}

void validate_record(const proto::RecordConfig& r, Checker& c) {
  c.check(!r.runs_dir().empty(), "record.runs_dir", "must not be empty", "\"\"");
  c.check(r.flush_every() >= 1, "record.flush_every", "must be >= 1", r.flush_every());
  c.check(r.param_digest_every() >= 0, "record.param_digest_every", "must be >= 0 (0: initial and final only)",
          r.param_digest_every());
}

}  // namespace

void validate_tolerance(const std::string& name, double value) {
  if (!(value >= 0) || std::isinf(value)) {
    throw Error::usage(name + ": must be a finite number >= 0 (got " + internal::shortest_text(value) + ")");
  }
}

void validate_from_step(const std::string& name, int64_t step) {
  if (step < 0) throw Error::usage(name + ": must be >= 0 (got " + std::to_string(step) + ")");
}

void validate_determinism(const proto::DeterminismConfig& determinism, const std::string& origin) {
  Checker c(origin);
  check_determinism(determinism, c);
}

void validate_config(const proto::RunConfig& config, const std::string& origin) {
  Checker c(origin);
  check_determinism(config.determinism(), c);
  validate_model(config.model(), c);
  validate_optimizer(config.optimizer(), c);
  validate_train(config.train(), c);
  validate_record(config.record(), c);
  validate_tolerance(origin + ": check.rtol", config.check().rtol());
  validate_tolerance(origin + ": check.atol", config.check().atol());
  validate_from_step(origin + ": check.from_step", config.check().from_step());
  // Sorted, so that the first bad name is the same in every process.
  std::set<std::string> names;
  for (const auto& [name, value] : config.params()) names.insert(name);
  for (const auto& name : names) {
    c.check(internal::is_param_name(name), "params", "not a parameter name", "\"" + name + "\"");
  }
  validate_data(config.data(), c);  // last: it touches the file system
  const std::int64_t samples = config.data().sample_limit();
  c.check(samples == 0 || samples > 1, "data.sample_limit", "must leave at least 2 samples to split", samples);
}

}  // namespace repro
