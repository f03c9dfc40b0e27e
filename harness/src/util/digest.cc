#include "repro/digest.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#define XXH_INLINE_ALL  // header-only: no link dependency, and the compiler can inline the loop
#include <xxhash.h>

#include "repro/error.h"

namespace repro {
namespace {

std::string to_hex(XXH128_hash_t h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

}  // namespace

struct Hasher::State {
  XXH3_state_t xxh;
};

Hasher::Hasher() : state_(std::make_unique<State>()) { XXH3_128bits_reset(&state_->xxh); }
Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) {
  if (size != 0) XXH3_128bits_update(&state_->xxh, data, size);
}

std::string Hasher::hex_digest() const { return to_hex(XXH3_128bits_digest(&state_->xxh)); }

std::string digest_bytes(const void* data, std::size_t size) { return to_hex(XXH3_128bits(data, size)); }

std::string digest_file(const std::string& path, std::uint64_t* size) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw Error::input(path + ": cannot open: " + std::strerror(errno));
  Hasher hasher;
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    hasher.update(buf.data(), n);
    total += n;
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) throw Error::input(path + ": read error");
  if (size != nullptr) *size = total;
  return hasher.hex_digest();
}

}  // namespace repro
