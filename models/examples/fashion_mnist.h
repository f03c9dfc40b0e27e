// models/examples/fashion_mnist.h: Fashion-MNIST as a torch::data dataset, read from the gzip
// IDX files Debian's dataset-fashion-mnist installs (torch::data::datasets::MNIST reads only
// uncompressed files). Header-only, needs zlib; shared by the example programs.
#pragma once

#include <torch/torch.h>
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace examples {

// The whole decompressed content of a gzip file; throws std::runtime_error naming it.
inline std::string gunzip_file(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error(path + ": cannot open");
  std::string out;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(file, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  const bool failed = n < 0;
  gzclose(file);
  if (failed) throw std::runtime_error(path + ": not a valid gzip file");
  return out;
}

inline int64_t idx_u32(const std::string& bytes, std::size_t at) {
  int64_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes.at(at + i));
  return v;
}

// IDX (big-endian magic, sizes, then unsigned bytes) as a uint8 tensor of the stored shape.
inline torch::Tensor read_idx(const std::string& path, int64_t expected_magic) {
  const std::string bytes = gunzip_file(path);
  if (bytes.size() < 8 || idx_u32(bytes, 0) != expected_magic) throw std::runtime_error(path + ": not an IDX file");
  const auto dims = static_cast<std::size_t>(expected_magic & 0xff);
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (std::size_t d = 0; d < dims; ++d) count *= shape.emplace_back(idx_u32(bytes, 4 + 4 * d));
  const std::size_t offset = 4 + 4 * dims;
  if (bytes.size() != offset + static_cast<std::size_t>(count)) throw std::runtime_error(path + ": truncated");
  return torch::from_blob(const_cast<char*>(bytes.data() + offset), shape, torch::kUInt8).clone();
}

// Images as float [1, 28, 28] scaled to [0, 1] then normalised with the usual MNIST constants,
// labels as int64; at most `limit` samples (0: all) from the start of the file.
class FashionMnist : public torch::data::datasets::Dataset<FashionMnist> {
 public:
  FashionMnist(const std::string& root, bool train, int64_t limit = 0) {
    const std::string prefix = root + (train ? "/train" : "/t10k");
    images_ = read_idx(prefix + "-images-idx3-ubyte.gz", 0x803).unsqueeze(1).to(torch::kFloat).div_(255);
    images_ = images_.sub_(0.1307).div_(0.3081);
    targets_ = read_idx(prefix + "-labels-idx1-ubyte.gz", 0x801).to(torch::kLong);
    if (limit > 0 && limit < images_.size(0)) {
      images_ = images_.slice(0, 0, limit);
      targets_ = targets_.slice(0, 0, limit);
    }
  }
  torch::data::Example<> get(size_t index) override {
    const auto i = static_cast<int64_t>(index);
    return {images_[i], targets_[i]};
  }
  torch::optional<size_t> size() const override { return static_cast<size_t>(images_.size(0)); }

 private:
  torch::Tensor images_, targets_;
};

}  // namespace examples
