#include "repro/digest.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "repro/error.h"
#include "util/file_digests.h"
#include "util/input_file.h"
#include "util/xxh3_kernels.h"

namespace repro {
namespace {

std::string to_hex(internal::Hash128 h) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

}  // namespace

struct Hasher::State {
  const internal::Xxh3Kernel& kernel = internal::xxh3_kernel();
  internal::Xxh3State xxh;
};

Hasher::Hasher() : state_(std::make_unique<State>()) { state_->kernel.reset(&state_->xxh); }
Hasher::~Hasher() = default;

void Hasher::update(const void* data, std::size_t size) {
  if (size != 0) state_->kernel.update(&state_->xxh, data, size);
}

std::string Hasher::hex_digest() const { return to_hex(state_->kernel.digest(&state_->xxh)); }

std::string digest_bytes(const void* data, std::size_t size) {
  return to_hex(internal::xxh3_kernel().hash(data, size));
}

std::string digest_file(const std::string& path, std::uint64_t* size) {
  internal::InputFile file(path, "");  // a regular file only: a FIFO or /dev/zero would never end
  Hasher hasher;
  std::vector<char> buf(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(file.fd(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error::input(path + ": read error: " + std::strerror(errno));
    }
    if (n == 0) break;
    hasher.update(buf.data(), static_cast<std::size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  if (size != nullptr) *size = total;
  return hasher.hex_digest();
}

namespace internal {

std::vector<FileDigest> digest_files(const std::vector<std::string>& paths) {
  std::vector<FileDigest> out(paths.size());
  std::vector<std::exception_ptr> errors(paths.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      try {
        out[i].xxh3 = digest_file(paths[i], &out[i].size);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const std::size_t threads =
      std::min<std::size_t>({std::max(1u, std::thread::hardware_concurrency()), 8, paths.size()});
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

}  // namespace internal

}  // namespace repro
