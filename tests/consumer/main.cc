// Links reprotorch::harness from the install tree (and through it Torch) and uses both.
#include <ATen/Parallel.h>
#include <repro/digest.h>
#include <repro/environment.h>
#include <repro/version.h>

#include <iostream>

int main() {
  const auto env = repro::capture_environment();
  if (env.torch().version().empty() || env.threads().intra_op() != at::get_num_threads()) return 1;
  if (repro::digest_bytes("abc") != "06b05ab6733a618578af5f94892f3950") return 1;
  std::cout << "consumer: reprotorch " << REPRO_VERSION_STRING << " with torch " << env.torch().version() << "\n";
  return 0;
}
