#include "report/tfrecord.h"

#include <cstdint>

#include "util/crc32c.h"

namespace repro::internal {
namespace {

// Little-endian whatever the host's byte order: the format fixes it.
void append_le(std::string* out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

}  // namespace

void append_tfrecord(std::string* out, std::string_view data) {
  std::string length;
  append_le(&length, data.size(), 8);
  out->append(length);
  append_le(out, crc32c_mask(crc32c(length)), 4);
  out->append(data);
  append_le(out, crc32c_mask(crc32c(data)), 4);
}

}  // namespace repro::internal
