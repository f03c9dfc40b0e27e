// Fuzz target: the IDX readers of the Fashion-MNIST source. The first byte chooses images or
// labels (bit 0) and whether the rest is written as given (bit 1: the gzip layer is fuzzed) or
// gzip-compressed first (the IDX layer is fuzzed).
#include "fuzz_input.h"
#include "models/data/sources.h"

// After the generated headers: zlib.h defines zlib_version, a field name of proto::Build.
#include <zlib.h>

namespace {

std::string gzip(const std::string& bytes) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool labels = (data[0] & 1) != 0, raw = (data[0] & 2) != 0;
  const std::string rest = repro::fuzz::as_string(data + 1, size - 1);
  const std::string path = repro::fuzz::write_file("data-idx.gz", raw ? rest : gzip(rest));
  repro::fuzz::errors_only([&] {
    labels ? (void)repro::models::internal::read_idx_labels(path)
           : (void)repro::models::internal::read_idx_images(path);
  });
  return 0;
}
