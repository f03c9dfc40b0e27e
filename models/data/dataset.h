// models/data/dataset.h: the built-in data sources, loaded whole into memory as tensors.
// Dataset, DataFile and LoadedData are the harness's (run/builtins.h).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/run_config.pb.h"
#include "run/builtins.h"

namespace repro::models {

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
