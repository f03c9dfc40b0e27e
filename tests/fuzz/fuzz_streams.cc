// Fuzz target: the framed streams of a run directory (steps.bin and evals.bin) under a valid
// header, read as every command reads a run, cut back to their valid prefix as `repro resume`
// does, and compared with themselves. The input's first two bytes (little-endian) are the
// length of steps.bin; the rest after it is evals.bin.
#include <filesystem>

#include <algorithm>

#include "fuzz_input.h"
#include "proto/run_record.pb.h"
#include "repro/compare.h"
#include "repro/record.h"
#include "run/record_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string bytes = repro::fuzz::as_string(data + 2, size - 2);
  const std::size_t cut = std::min<std::size_t>(bytes.size(), data[0] | (data[1] << 8));
  const std::string dir = repro::fuzz::scratch_dir() + "/run";
  std::filesystem::remove_all(dir);
  repro::proto::RunRecord header;
  header.set_schema_version(repro::kRunRecordSchemaVersion);
  header.set_run_id("fuzz");
  header.set_status(repro::proto::FINISHED);
  repro::fuzz::write_file("run/record.pb", header.SerializeAsString());
  repro::fuzz::write_file("run/steps.bin", bytes.substr(0, cut));
  repro::fuzz::write_file("run/evals.bin", bytes.substr(cut));
  repro::fuzz::errors_only([&] {
    const repro::RunData run = repro::read_run(dir);
    (void)repro::compare_runs(run, run);
    (void)repro::internal::truncate_stream(dir + "/steps.bin", run.steps.size() / 2);
    (void)repro::read_run(dir);
  });
  return 0;
}
