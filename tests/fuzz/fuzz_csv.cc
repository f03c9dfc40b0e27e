// Fuzz target: the CSV data source (features a and b, label column "label"), loaded as
// `repro run` loads data.source csv.
#include "fuzz_input.h"
#include "models/data/sources.h"
#include "proto/run_config.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = repro::fuzz::write_file("data.csv", repro::fuzz::as_string(data, size));
  repro::proto::DataConfig config;
  config.set_source("csv");
  config.set_path(path);
  config.add_csv_features("a");
  config.add_csv_features("b");
  config.set_csv_label("label");
  repro::fuzz::errors_only([&] { (void)repro::models::internal::load_csv(config); });
  return 0;
}
