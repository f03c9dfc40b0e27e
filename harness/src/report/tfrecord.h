// Private: TFRecord framing, the container of TensorBoard event files (the layout is in
// repro/tensorboard.h).
#pragma once

#include <string>
#include <string_view>

namespace repro::internal {

// Appends one record holding `data` to `out`: u64 LE length, masked CRC-32C of those 8 bytes,
// the data, masked CRC-32C of the data (util/crc32c.h).
void append_tfrecord(std::string* out, std::string_view data);

}  // namespace repro::internal
