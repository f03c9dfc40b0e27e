// Dispatch from data.source to the loader, and what every source shares (sample_limit).
#include <torch/torch.h>

#include "models/data/dataset.h"
#include "models/data/sources.h"
#include "repro/error.h"

namespace repro::models {

namespace {

enum class Source { kFashionMnist, kSynthetic, kCsv };

Source parse_source(const std::string& name) {
  if (name == "fashion-mnist") return Source::kFashionMnist;
  if (name == "synthetic") return Source::kSynthetic;
  if (name == "csv") return Source::kCsv;
  throw Error::usage("data.source: unknown source '" + name + "' (expected fashion-mnist, synthetic or csv)");
}

// Keeps the first `limit` samples; a copy, so the rest of the data set can be freed.
void apply_sample_limit(Dataset& train, int64_t limit) {
  if (limit <= 0 || limit >= train.size()) return;
  train.features = train.features.slice(/*dim=*/0, 0, limit).clone();
  train.labels = train.labels.slice(/*dim=*/0, 0, limit).clone();
}

}  // namespace

std::vector<DataFile> data_files(const proto::DataConfig& config) {
  switch (parse_source(config.source())) {
    case Source::kFashionMnist:
      return internal::fashion_mnist_files(config);
    case Source::kSynthetic:
      return {};
    case Source::kCsv:
      return internal::csv_files(config);
  }
  throw Error::internal("data_files: unhandled source");
}

LoadedData load_data(const proto::DataConfig& config, uint64_t seed) {
  const Source source = parse_source(config.source());
  if (config.sample_limit() < 0) {
    throw Error::usage("data.sample_limit: must be 0 (all) or positive, got " + std::to_string(config.sample_limit()));
  }
  LoadedData data;
  switch (source) {
    case Source::kFashionMnist:
      data = internal::load_fashion_mnist(config);
      break;
    case Source::kSynthetic:
      data = internal::load_synthetic(config, seed);
      break;
    case Source::kCsv:
      data = internal::load_csv(config);
      break;
  }
  apply_sample_limit(data.train, config.sample_limit());
  return data;
}

std::vector<std::string> data_source_names() { return {"fashion-mnist", "synthetic", "csv"}; }

}  // namespace repro::models
