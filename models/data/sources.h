// models/data/sources.h (private): one loader per data source, dispatched by data.cc.
// Loaders return the whole data set; data.cc applies data.sample_limit afterwards.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/data/dataset.h"

namespace repro::models::internal {

// fashion-mnist (idx.cc): the four gzip IDX files in directory data.path.
std::vector<DataFile> fashion_mnist_files(const proto::DataConfig& config);
LoadedData load_fashion_mnist(const proto::DataConfig& config);

// A gzip-compressed IDX file of unsigned bytes. Images (magic 0x00000803) come back as
// uint8 [N, rows, cols], labels (magic 0x00000801) as uint8 [N]. Throws Error (input) naming
// `path` when the file is missing, not gzip, corrupt, truncated, has another magic, or has
// data after the declared size.
at::Tensor read_idx_images(const std::string& path);
at::Tensor read_idx_labels(const std::string& path);

// synthetic (synthetic.cc): Gaussian clusters generated from `seed` alone, with a private
// generator, so torch's global generator is never touched. Reads no files.
LoadedData load_synthetic(const proto::DataConfig& config, uint64_t seed);

// csv (csv.cc): the file data.path, with a header row.
std::vector<DataFile> csv_files(const proto::DataConfig& config);
LoadedData load_csv(const proto::DataConfig& config);

}  // namespace repro::models::internal
