// Layer outputs through RecordFunction: C++ nn::Module has no forward hooks, and a module's
// forward may call its children in any way, so the ops themselves are traced.
#include "doctor/doctor_layers.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <map>
#include <unordered_map>

namespace repro::internal {
namespace {

struct Trace {
  std::unordered_map<const void*, std::string> owner;  // parameter TensorImpl -> module path
  std::string last_owner;
  std::map<std::string, int> seen;
  std::vector<LayerOutput> layers;
  int depth = 0;
};

thread_local Trace* t_trace = nullptr;

std::string module_of(const std::string& parameter) {
  const auto dot = parameter.rfind('.');
  return dot == std::string::npos ? "(root)" : parameter.substr(0, dot);
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction&) {
  if (t_trace != nullptr) ++t_trace->depth;
  return nullptr;
}

bool shares_storage(const at::Tensor& out, c10::ArrayRef<const c10::IValue> inputs) {
  for (const auto& in : inputs) {
    if (in.isTensor() && in.toTensor().defined() && in.toTensor().has_storage() && out.has_storage() &&
        in.toTensor().storage().is_alias_of(out.storage())) {
      return true;
    }
  }
  return false;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  Trace* t = t_trace;
  if (t == nullptr) return;
  if (t->depth-- != 1) return;  // only top-level ops: not what runs inside them
  std::string owner;
  for (const auto& in : fn.inputs()) {
    if (!in.isTensor()) continue;
    const auto it = t->owner.find(in.toTensor().unsafeGetTensorImpl());
    if (it != t->owner.end()) {
      owner = it->second;
      break;
    }
  }
  const std::string op = fn.name();
  std::string name =
      owner.empty() ? (t->last_owner.empty() ? op : op + " after " + t->last_owner) : owner + " (" + op + ")";
  if (!owner.empty()) t->last_owner = owner;
  for (const auto& out : fn.outputs()) {
    if (!out.isTensor()) continue;
    const at::Tensor tensor = out.toTensor();
    if (!tensor.defined() || !tensor.is_floating_point() || shares_storage(tensor, fn.inputs())) continue;
    const int n = ++t->seen[name];
    t->layers.push_back({n == 1 ? name : name + " #" + std::to_string(n), tensor.detach()});
    break;  // the first tensor output is the layer's output (batch_norm also returns its statistics)
  }
}

}  // namespace

std::vector<LayerOutput> capture_layers(const std::function<at::Tensor()>& forward,
                                        const std::vector<std::pair<std::string, at::Tensor>>& parameters,
                                        at::Tensor* result) {
  Trace trace;
  for (const auto& [name, p] : parameters) trace.owner.emplace(p.unsafeGetTensorImpl(), module_of(name));
  Trace* const outer = t_trace;
  t_trace = &trace;
  const at::CallbackHandle handle = at::addThreadLocalCallback(at::RecordFunctionCallback(&on_start, &on_end)
                                                                   .needsInputs(true)
                                                                   .needsOutputs(true)
                                                                   .scopes({at::RecordScope::FUNCTION}));
  try {
    *result = forward();
  } catch (...) {
    at::removeCallback(handle);
    t_trace = outer;
    throw;
  }
  at::removeCallback(handle);
  t_trace = outer;
  return std::move(trace.layers);
}

}  // namespace repro::internal
