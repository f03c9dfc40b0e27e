// Benchmark: digesting tracked data (repro/data.h), without and with the digest cache. Not a
// test: the figures for README.
//
//   build/bench_data [--files N] [--big-mib M]
//
// Generates, under a temporary directory, a tree of N small files (default 60000, 1 KiB each,
// 100 sub-directories) and one file of M MiB (default 1024), then digests each three ways:
// cold (no cache: every byte read), first with an empty cache (read, cache written) and warm
// (cache hit: only stat). The file contents are in the page cache for every measure, so "cold"
// is the cost of hashing, not of the disk.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "repro/data.h"

namespace {

namespace fs = std::filesystem;
using repro::bench::Clock;
using repro::bench::seconds_since;

double time_digest(const std::string& path, const std::string& cache, std::int64_t* read) {
  repro::DigestOptions options;
  options.cache_dir = cache;
  const auto t0 = Clock::now();
  const repro::PathDigest d = repro::digest_path(path, options);
  const double s = seconds_since(t0);
  *read = d.files_read;
  return s;
}

void measure(const std::string& what, const std::string& path, const std::string& cache_dir) {
  std::int64_t read = 0;
  const double cold = time_digest(path, "off", &read);
  std::cout << what << ": no cache " << cold << " s (" << read << " files read)\n";
  const double first = time_digest(path, cache_dir, &read);
  std::cout << what << ": empty cache " << first << " s (" << read << " files read, cache written)\n";
  const double warm = time_digest(path, cache_dir, &read);
  std::cout << what << ": warm cache " << warm << " s (" << read << " files read)\n";
}

}  // namespace

int main(int argc, char** argv) {
  long files = 60000, big_mib = 1024;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--files") == 0) files = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--big-mib") == 0) big_mib = std::atol(argv[i + 1]);
  }
  const fs::path root = fs::temp_directory_path() / ("bench_data-" + std::to_string(::getpid()));
  fs::create_directories(root / "tree");
  try {
    const std::string small(1024, 'x');
    for (long i = 0; i < files; ++i) {
      const fs::path sub = root / "tree" / ("d" + std::to_string(i % 100));
      if (i < 100) fs::create_directories(sub);
      std::ofstream(sub / ("f" + std::to_string(i) + ".bin"), std::ios::binary) << small << i;
    }
    {
      std::ofstream big(root / "big.bin", std::ios::binary);
      std::vector<char> block(1 << 20);
      for (std::size_t j = 0; j < block.size(); ++j) block[j] = static_cast<char>(j * 131);
      for (long m = 0; m < big_mib; ++m) {
        block[0] = static_cast<char>(m);
        big.write(block.data(), static_cast<std::streamsize>(block.size()));
      }
    }
    measure(std::to_string(files) + " files of 1 KiB", (root / "tree").string(), (root / "cache").string());
    measure("one file of " + std::to_string(big_mib) + " MiB", (root / "big.bin").string(), (root / "cache").string());
  } catch (const std::exception& e) {
    std::cerr << "bench_data: " << e.what() << "\n";
    fs::remove_all(root);
    return 3;
  }
  fs::remove_all(root);
  return 0;
}
