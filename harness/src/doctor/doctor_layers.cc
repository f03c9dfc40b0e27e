// Layer outputs through RecordFunction: C++ nn::Module has no forward hooks, and a module's
// forward may call its children in any way, so the ops themselves are traced.
//
// An op's inputs are read in its start callback only: RecordFunction holds them as a view of
// the caller's arguments, which are gone by the end callback. For an op the TorchScript
// interpreter calls (boxed, on its stack) the view is the stack itself, which by then holds the
// op's outputs: read at the end, every output looked like a view of itself and no layer of a
// TorchScript module was ever seen. The boxed call's view also spans the whole stack, and its
// outputs are the whole stack after the call, so both are cut to the op's schema.
#include "doctor/doctor_layers.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <map>
#include <unordered_map>

namespace repro::internal {
namespace {

struct Trace {
  std::unordered_map<const void*, std::string> owner;  // parameter (or view of one) TensorImpl -> module path
  std::vector<at::Tensor> views;                       // views of parameters in `owner`, kept alive
  std::string last_owner;
  std::map<std::string, int> seen;
  std::vector<LayerOutput> layers;
  int depth = 0;
};

thread_local Trace* t_trace = nullptr;

// What the end callback needs of a top-level op's inputs, taken at its start.
struct OpInputs : at::ObserverContext {
  std::string owner;                  // the module of the first parameter among the inputs
  std::vector<c10::Storage> storage;  // the storages of its tensor inputs (outputs sharing one are views)
};

std::string module_of(const std::string& parameter) {
  const auto dot = parameter.rfind('.');
  return dot == std::string::npos ? "(root)" : parameter.substr(0, dot);
}

// The last `count` values of `values` (all of them when the schema is unknown or larger).
template <typename T>
c10::ArrayRef<T> last(c10::ArrayRef<T> values, std::size_t count) {
  return count < values.size() ? values.slice(values.size() - count) : values;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  Trace* t = t_trace;
  if (t == nullptr || ++t->depth != 1) return nullptr;  // only top-level ops: not what runs inside them
  const auto schema = fn.operator_schema();
  auto context = std::make_unique<OpInputs>();
  for (const auto& in : last(fn.inputs(), schema ? schema->arguments().size() : fn.inputs().size())) {
    if (!in.isTensor() || !in.toTensor().defined()) continue;
    const at::Tensor& tensor = in.toTensor();
    if (context->owner.empty()) {
      const auto it = t->owner.find(tensor.unsafeGetTensorImpl());
      if (it != t->owner.end()) context->owner = it->second;
    }
    if (tensor.has_storage()) context->storage.push_back(tensor.storage());
  }
  return context;
}

bool is_view(const at::Tensor& out, const OpInputs& inputs) {
  if (!out.has_storage()) return false;
  for (const auto& s : inputs.storage) {
    if (s.is_alias_of(out.storage())) return true;
  }
  return false;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* context) {
  Trace* t = t_trace;
  if (t == nullptr) return;
  --t->depth;
  if (context == nullptr) return;
  const auto& inputs = *static_cast<OpInputs*>(context);
  const std::string op = fn.name();
  const std::string& owner = inputs.owner;
  const std::string name =
      owner.empty() ? (t->last_owner.empty() ? op : op + " after " + t->last_owner) : owner + " (" + op + ")";
  const auto schema = fn.operator_schema();
  const c10::ArrayRef<c10::IValue> all(fn.outputs());
  for (const auto& out : last(all, schema ? schema->returns().size() : all.size())) {
    if (!out.isTensor()) continue;
    const at::Tensor tensor = out.toTensor();
    if (!tensor.defined() || !tensor.is_floating_point()) continue;
    if (is_view(tensor, inputs)) {
      // A view of a parameter (t, detach: the TorchScript executor detaches a differentiable
      // graph's inputs) still belongs to its module, for the op that consumes it.
      if (!owner.empty() && t->owner.emplace(tensor.unsafeGetTensorImpl(), owner).second) t->views.push_back(tensor);
      continue;
    }
    const int n = ++t->seen[name];
    t->layers.push_back({n == 1 ? name : name + " #" + std::to_string(n), tensor.detach()});
    if (!owner.empty()) t->last_owner = owner;
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
