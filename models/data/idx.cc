// The fashion-mnist source: gzip-compressed IDX files (http://yann.lecun.com/exdb/mnist/).
// An IDX file is a big-endian header — magic 0x0000TTDD (TT: element type, 0x08 = unsigned
// byte; DD: number of dimensions), then DD uint32 sizes — followed by the elements, row-major.
#include <torch/torch.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "models/data/sources.h"
#include "repro/error.h"
#include "util/input_file.h"

namespace repro::models::internal {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
constexpr int64_t kNumClasses = 10;
// Far beyond any real IDX file; stops a corrupt header from asking for terabytes.
constexpr int64_t kMaxElements = int64_t{1} << 32;
constexpr int64_t kFirstChunk = int64_t{64} << 20;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// A gzip file opened for reading; every failure is an Error (input) naming the file.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    repro::internal::check_input_file(path, "");  // a regular file: a FIFO or /dev/zero never ends
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw Error::input(path + ": cannot open: " + (errno ? std::strerror(errno) : "out of memory"));
    }
    // zlib would call an empty file "not gzip"; say what it is.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0) {
      gzclose(file_);
      throw Error::input(path + ": empty file");
    }
  }
  ~GzReader() { gzclose(file_); }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `size` bytes; returns how many were read (fewer only at the end of the data).
  int64_t read(void* out, int64_t size) {
    auto* p = static_cast<char*>(out);
    int64_t got = 0;
    while (got < size) {
      const auto chunk = static_cast<unsigned>(std::min<int64_t>(size - got, 1 << 30));
      const int n = gzread(file_, p + got, chunk);
      check_stream();
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  uint32_t read_be32(const char* what) {
    unsigned char b[4];
    const int64_t got = read(b, 4);
    if (got != 4) {
      throw Error::input(path_ + ": truncated: expected 4 bytes of " + what + ", got " + std::to_string(got));
    }
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | uint32_t{b[3]};
  }

  bool at_end() {
    char c;
    return read(&c, 1) == 0;
  }

 private:
  void check_stream() {
    // gzopen reads a non-gzip file "transparently"; the data source is gzip by definition, so a
    // file without the gzip magic is corrupt (or the wrong file), not raw IDX.
    if (gzdirect(file_)) throw Error::input(path_ + ": not a gzip file (bad gzip magic)");
    int errnum = Z_OK;
    const char* msg = gzerror(file_, &errnum);
    if (errnum == Z_BUF_ERROR) throw Error::input(path_ + ": truncated: gzip data ends early (" + msg + ")");
    if (errnum == Z_ERRNO) throw Error::input(path_ + ": cannot read: " + std::strerror(errno));
    if (errnum != Z_OK) throw Error::input(path_ + ": corrupt gzip data: " + msg);
  }

  std::string path_;
  gzFile file_ = nullptr;
};

// Reads an IDX file of unsigned bytes with `magic` into a uint8 tensor of the sizes its header declares.
at::Tensor read_idx(const std::string& path, uint32_t magic, const char* what) {
  GzReader in(path);
  const uint32_t got_magic = in.read_be32("IDX magic");
  if (got_magic != magic) {
    throw Error::input(path + ": bad IDX magic " + hex32(got_magic) + " (expected " + hex32(magic) + " for " + what +
                       ")");
  }
  const int ndim = static_cast<int>(magic & 0xff);
  std::vector<int64_t> sizes;
  int64_t elements = 1;
  for (int i = 0; i < ndim; ++i) {
    const uint32_t size = in.read_be32("IDX header");
    if (size == 0) throw Error::input(path + ": IDX dimension " + std::to_string(i) + " is 0");
    // Checked before multiplying: the product of four 32-bit sizes overflows int64 (fuzz_idx).
    if (size > kMaxElements / elements) throw Error::input(path + ": IDX header declares an implausible size");
    sizes.push_back(size);
    elements *= size;
  }
  // Memory follows the bytes that are there, not what the header claims: the buffer starts at
  // 64 MiB at most (one allocation for any real file) and doubles only while data keeps coming.
  at::Tensor data = at::empty({std::min(elements, kFirstChunk)}, at::kByte);
  int64_t got = in.read(data.data_ptr<uint8_t>(), data.numel());
  while (got == data.numel() && got < elements) {
    data.resize_({std::min(elements, 2 * data.numel())});
    got += in.read(data.data_ptr<uint8_t>() + got, data.numel() - got);
  }
  if (got != elements) {
    throw Error::input(path + ": truncated: expected " + std::to_string(elements) + " bytes of " + what +
                       " data, got " + std::to_string(got));
  }
  if (!in.at_end()) {
    throw Error::input(path + ": unexpected data after the " + std::to_string(elements) + " bytes of " + what +
                       " data");
  }
  return data.view(sizes);
}

std::string path_in(const std::string& dir, const char* name) { return (std::filesystem::path(dir) / name).string(); }

// Images as uint8 [N, 1, rows, cols] (the file's bytes, not copied; the split converts only
// what it keeps to float32) and labels as int64 [N], after checking they agree.
Dataset load_split(const std::string& images_path, const std::string& labels_path) {
  const at::Tensor images = read_idx_images(images_path);
  const at::Tensor labels = read_idx_labels(labels_path);
  if (labels.size(0) != images.size(0)) {
    throw Error::input(labels_path + ": " + std::to_string(labels.size(0)) + " labels for " +
                       std::to_string(images.size(0)) + " images in " + images_path);
  }
  const at::Tensor bad = (labels >= kNumClasses).nonzero();
  if (bad.numel() > 0) {
    const int64_t index = bad[0][0].item<int64_t>();
    throw Error::input(labels_path + ": label " + std::to_string(labels[index].item<int64_t>()) + " at index " +
                       std::to_string(index) + " is outside 0.." + std::to_string(kNumClasses - 1));
  }
  Dataset split;
  split.features = images.unsqueeze(/*dim=*/1);
  split.labels = labels.to(at::kLong);
  return split;
}

}  // namespace

at::Tensor read_idx_images(const std::string& path) { return read_idx(path, kImagesMagic, "image"); }

at::Tensor read_idx_labels(const std::string& path) { return read_idx(path, kLabelsMagic, "label"); }

std::vector<DataFile> fashion_mnist_files(const proto::DataConfig& config) {
  const std::string& dir = config.path();
  return {{"train-images", path_in(dir, "train-images-idx3-ubyte.gz")},
          {"train-labels", path_in(dir, "train-labels-idx1-ubyte.gz")},
          {"test-images", path_in(dir, "t10k-images-idx3-ubyte.gz")},
          {"test-labels", path_in(dir, "t10k-labels-idx1-ubyte.gz")}};
}

LoadedData load_fashion_mnist(const proto::DataConfig& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.path(), ec)) {
    throw Error::input(config.path() + ": not a directory (data.path for fashion-mnist: the directory of " +
                       "its .gz files, e.g. /usr/share/datasets/fashion-mnist)");
  }
  LoadedData data;
  data.files = fashion_mnist_files(config);
  data.train = load_split(data.files[0].path, data.files[1].path);
  data.test = load_split(data.files[2].path, data.files[3].path);
  if (data.test.features.sizes().slice(1) != data.train.features.sizes().slice(1)) {
    throw Error::input(data.files[2].path + ": images are " + std::to_string(data.test.features.size(2)) + "x" +
                       std::to_string(data.test.features.size(3)) + ", training images " +
                       std::to_string(data.train.features.size(2)) + "x" + std::to_string(data.train.features.size(3)));
  }
  const auto sizes = data.train.features.sizes();
  data.input_shape.assign(sizes.begin() + 1, sizes.end());
  data.num_classes = kNumClasses;
  return data;
}

}  // namespace repro::models::internal
