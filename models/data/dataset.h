// models/data/dataset.h: data sources, loaded whole into memory as tensors.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/run_config.pb.h"

namespace repro::models {

struct Dataset {
  at::Tensor features;  // float32 [N, input_shape...], raw values (not yet normalised)
  at::Tensor labels;    // int64 [N], in [0, num_classes)
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct DataFile {
  std::string role;  // "train-images", "train-labels", "test-images", "test-labels", "csv"
  std::string path;
};

struct LoadedData {
  Dataset train;                     // the whole training set; the trainer carves validation from it
  Dataset test;                      // the official test set (fashion-mnist), a held-out set (synthetic), or empty (csv)
  std::vector<int64_t> input_shape;  // per sample
  int64_t num_classes = 0;
  std::vector<DataFile> files;       // every file read, for the record's data fingerprint
};

// The files `config` will read, without reading them: lets a caller check and fingerprint
// inputs before anything else. Throws Error (usage) for an unknown source.
std::vector<DataFile> data_files(const proto::DataConfig& config);

// Loads the data the config names. `seed` drives generated data (synthetic) and nothing else.
// data.sample_limit > 0 keeps the first sample_limit training samples.
// Throws Error (input) naming the file on a missing, unreadable, truncated or malformed file
// (e.g. "/x/train-images-idx3-ubyte.gz: bad IDX magic 0x00000000"), Error (usage) naming the
// field for a bad source or columns ("data.csv_features: column 'foo' not in header of x.csv").
LoadedData load_data(const proto::DataConfig& config, uint64_t seed);

// Known data sources, for messages.
std::vector<std::string> data_source_names();

}  // namespace repro::models
