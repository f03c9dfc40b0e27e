// Tensor digests (see repro/digest.h for the exact byte order).
#include <ATen/ATen.h>

#include "repro/digest.h"

namespace repro {
namespace {

void feed_int64(Hasher& h, std::int64_t v) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(v) >> (8 * i));
  h.update(bytes, sizeof bytes);
}

void feed_tensor(Hasher& h, const at::Tensor& t) {
  if (!t.defined()) {
    h.update("undefined");
    return;
  }
  h.update(c10::toString(t.scalar_type()));
  feed_int64(h, t.dim());
  for (const auto size : t.sizes()) feed_int64(h, size);
  // Digest what the values are, not how they are stored; resolve conjugate/negative views too.
  at::Tensor c = t.detach().resolve_conj().resolve_neg().to(at::kCPU).contiguous();
  h.update(c.data_ptr(), c.numel() * c.element_size());
}

}  // namespace

std::string digest_tensor(const at::Tensor& tensor) {
  Hasher h;
  feed_tensor(h, tensor);
  return h.hex_digest();
}

std::string digest_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  Hasher h;
  for (const auto& [name, t] : tensors) {
    feed_int64(h, static_cast<std::int64_t>(name.size()));
    h.update(name);
    feed_tensor(h, t);
  }
  return h.hex_digest();
}

}  // namespace repro
