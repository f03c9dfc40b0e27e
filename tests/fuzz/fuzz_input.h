// What every fuzz target shares (tools/fuzz, README "Fuzzing"): the input as a file, because
// the readers under test take paths as users give them, and the contract each target checks.
// Bad input must be a repro::Error (the one line and exit 2 of the CLI); any other exception,
// a crash, a hang or a sanitizer report is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "repro/error.h"
#include "repro/log.h"

namespace repro::fuzz {

// A directory of this process's own under $TMPDIR (tools/fuzz points it into the build tree).
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    const std::string d =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/repro-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    set_log_level("off");  // a warning per input would drown libFuzzer's own lines
    return d;
  }();
  return dir;
}

// Writes `bytes` to NAME in the scratch directory (replacing it) and returns its path.
inline std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = scratch_dir() + "/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) std::abort();  // the harness itself failed, not the code under test
  return path;
}

inline std::string as_string(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs `body`: a repro::Error is how bad input must end; anything else leaves this function,
// and libFuzzer reports the uncaught exception as a crash with the input that caused it.
// With REPRO_FUZZ_VERBOSE set, the Error's line is printed (to see how far a seed gets).
template <typename Body>
void errors_only(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    static const bool verbose = std::getenv("REPRO_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "repro::Error: %s\n", e.what());
  }
}

}  // namespace repro::fuzz
