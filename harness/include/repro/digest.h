// repro/digest.h: content digests. Every digest in reprotorch is XXH3-128 over raw bytes,
// written as 32 lowercase hex digits (high 64 bits first). XXH3 is stable across versions,
// platforms and endianness for the same input bytes, so a digest recorded on one machine can
// be compared with one computed on another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace at {
class Tensor;
}

namespace repro {

// Incremental XXH3-128. Feeding the same bytes in any split gives the same digest.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // Digest of everything fed so far, as 32 hex digits. The hasher can keep being fed.
  std::string hex_digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// XXH3-128 of a byte range, as 32 hex digits.
std::string digest_bytes(const void* data, std::size_t size);
inline std::string digest_bytes(std::string_view bytes) { return digest_bytes(bytes.data(), bytes.size()); }

// XXH3-128 of a file's content, streamed. Throws Error (input) naming `path` when it cannot
// be opened or read.
std::string digest_file(const std::string& path, std::uint64_t* size = nullptr);

// Digest of a tensor's values. XXH3-128 over, in order: the dtype name ("Float"), the number
// of dimensions and each size as little-endian int64, then the element bytes of a contiguous
// CPU copy in row-major order. Views and non-contiguous tensors digest as their values, so
// equal values give equal digests however they are laid out. An undefined tensor digests as
// the bytes "undefined".
std::string digest_tensor(const at::Tensor& tensor);

// Digest of named tensors (a model's parameters then buffers): for each in order, the name's
// length as int64 and its bytes, then the tensor as in digest_tensor, all in one XXH3-128.
std::string digest_tensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors);

}  // namespace repro
