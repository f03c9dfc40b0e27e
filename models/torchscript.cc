#include "models/torchscript.h"

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <filesystem>
#include <sstream>

#include "repro/error.h"
#include "util/input_file.h"

namespace repro::models {
namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream s;
  s << sizes;
  return s.str();
}

class TorchScriptModel : public TrainableModel {
 public:
  TorchScriptModel(std::string path, torch::jit::Module module, int64_t num_classes, bool graph_optimize)
      : path_(std::move(path)),
        module_(std::move(module)),
        num_classes_(num_classes),
        graph_optimize_(graph_optimize) {}

  at::Tensor forward(const at::Tensor& input) override {
    // The executor reads the setting (thread-local) at each call: this forward, and so the
    // backward of its graph, run as model.torchscript.graph_optimize says.
    const torch::jit::GraphOptimizerEnabledGuard optimize(graph_optimize_);
    const c10::IValue out = module_.forward({input});
    if (!out.isTensor()) {
      throw Error::input(path_ + ": forward returned " + std::string(out.tagKind()) + ", expected a tensor of logits");
    }
    at::Tensor logits = out.toTensor();
    if (logits.dim() != 2 || logits.size(0) != input.size(0) || logits.size(1) != num_classes_) {
      throw Error::input(path_ + ": forward returned shape " + shape_text(logits.sizes()) + " for a batch of " +
                         std::to_string(input.size(0)) + ", expected [" + std::to_string(input.size(0)) + ", " +
                         std::to_string(num_classes_) + "] (the data has " + std::to_string(num_classes_) +
                         " classes)");
    }
    return logits;
  }

  NamedTensors named_parameters() const override {
    NamedTensors out;
    for (const auto& p : module_.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value);
    return out;
  }

  NamedTensors named_buffers() const override {
    NamedTensors out;
    for (const auto& b : module_.named_buffers(/*recurse=*/true)) out.emplace_back(b.name, b.value);
    return out;
  }

  void train(bool on) override { module_.train(on); }

  // The module's type, parameters, attributes and forward graph as TorchScript dumps them
  // (no tensor values).
  std::string summary() const override {
    return module_.dump_to_str(/*print_method_bodies=*/true, /*print_attr_values=*/false,
                               /*print_param_values=*/false);
  }

  std::string name() const override { return "torchscript"; }

 private:
  std::string path_;
  torch::jit::Module module_;
  int64_t num_classes_;
  bool graph_optimize_;
};

}  // namespace

std::unique_ptr<TrainableModel> make_torchscript(const proto::TorchScriptConfig& config, const DataShape& shape) {
  const std::string& path = config.path();
  if (path.empty()) throw Error::usage("model.torchscript.path: empty (the TorchScript file to train)");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error::input(path + ": model.torchscript.path: no such file");
  // torch::jit::load reads /dev/zero or a FIFO forever: only a regular file goes to it.
  repro::internal::check_input_file(path, "model.torchscript.path");
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    throw Error::input(path + ": not a TorchScript file: " + first_line(e.what_without_backtrace()));
  }
  if (!module.find_method("forward")) throw Error::input(path + ": the TorchScript module has no forward method");
  return std::make_unique<TorchScriptModel>(path, std::move(module), shape.num_classes, config.graph_optimize());
}

}  // namespace repro::models
