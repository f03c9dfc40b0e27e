// A reader of TensorBoard event files written from the format's specification, independently
// of the writer (harness/src/report/): its own bitwise CRC-32C, its own TFRecord framing and a
// protobuf wire-format decoder by hand (varints, fixed64, fixed32, length-delimited), with the
// field numbers of TensorBoard's event.proto and summary.proto -- not the generated classes, so
// that a bug of the writer cannot hide in code both share.
//
//   TFRecord:  u64 LE length | u32 LE masked crc32c(length bytes) | data | u32 LE masked crc32c(data)
//   Event:     1 wall_time double, 2 step int64, 3 file_version string, 5 summary Summary
//   Summary:   1 value repeated Value
//   Value:     1 tag string, 2 simple_value float
// Every problem (a torn record, a CRC mismatch, a bad wire type, trailing bytes in a message)
// throws std::runtime_error naming the record and what is wrong.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repro::testing {

struct TfValue {
  std::string tag;
  bool has_simple_value = false;
  std::uint32_t simple_value_bits = 0;  // the float32's IEEE-754 bits, as on the wire
  float simple_value() const {
    float f;
    std::memcpy(&f, &simple_value_bits, sizeof f);
    return f;
  }
};

struct TfEvent {
  std::uint64_t wall_time_bits = 0;  // the double's bits, as on the wire (0: absent, i.e. 0.0)
  std::int64_t step = 0;
  bool has_file_version = false;
  std::string file_version;
  bool has_summary = false;
  std::vector<TfValue> values;
  double wall_time() const {
    double d;
    std::memcpy(&d, &wall_time_bits, sizeof d);
    return d;
  }
};

namespace tfevents_detail {

// CRC-32C bit by bit, straight from the definition: reflected polynomial 0x82F63B78, initial
// value and final xor 0xFFFFFFFF. (The writer's is table-driven.)
inline std::uint32_t crc32c_bitwise(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const unsigned char byte : data) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc & 1u) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return crc ^ 0xFFFFFFFFu;
}

inline std::uint32_t masked_crc(std::string_view data) {
  const std::uint32_t crc = crc32c_bitwise(data);
  return static_cast<std::uint32_t>(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

inline std::uint64_t little_endian(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

// A cursor over one message's bytes.
class Wire {
 public:
  Wire(std::string_view bytes, std::string where) : bytes_(bytes), where_(std::move(where)) {}
  bool done() const { return pos_ == bytes_.size(); }

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) fail("varint runs past the end");
      const auto b = static_cast<unsigned char>(bytes_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    fail("varint longer than 10 bytes");
  }
  std::uint64_t fixed(std::size_t n) { return little_endian(take(n)); }
  std::string_view length_delimited() {
    const std::uint64_t n = varint();
    if (n > bytes_.size() - pos_) fail("length-delimited field runs past the end");
    return take(static_cast<std::size_t>(n));
  }
  // Skips a field of an unknown number by its wire type.
  void skip(std::uint32_t wire_type) {
    switch (wire_type) {
      case 0:
        varint();
        break;
      case 1:
        take(8);
        break;
      case 2:
        length_delimited();
        break;
      case 5:
        take(4);
        break;
      default:
        fail("wire type " + std::to_string(wire_type) + " (groups or invalid)");
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(where_ + ": " + what + " at byte " + std::to_string(pos_));
  }

 private:
  std::string_view take(std::size_t n) {
    if (n > bytes_.size() - pos_) fail("field runs past the end");
    const std::string_view s = bytes_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view bytes_;
  std::string where_;
  std::size_t pos_ = 0;
};

inline void expect_wire_type(const Wire& w, std::uint32_t field, std::uint32_t got, std::uint32_t want) {
  if (got != want) {
    w.fail("field " + std::to_string(field) + " has wire type " + std::to_string(got) + ", expected " +
           std::to_string(want));
  }
}

inline TfValue decode_value(std::string_view bytes, const std::string& where) {
  Wire w(bytes, where);
  TfValue v;
  while (!w.done()) {
    const std::uint64_t key = w.varint();
    const auto field = static_cast<std::uint32_t>(key >> 3), type = static_cast<std::uint32_t>(key & 7);
    if (field == 1) {
      expect_wire_type(w, field, type, 2);
      v.tag = std::string(w.length_delimited());
    } else if (field == 2) {
      expect_wire_type(w, field, type, 5);
      v.has_simple_value = true;
      v.simple_value_bits = static_cast<std::uint32_t>(w.fixed(4));
    } else {
      w.skip(type);
    }
  }
  return v;
}

inline TfEvent decode_event(std::string_view bytes, const std::string& where) {
  Wire w(bytes, where);
  TfEvent e;
  while (!w.done()) {
    const std::uint64_t key = w.varint();
    const auto field = static_cast<std::uint32_t>(key >> 3), type = static_cast<std::uint32_t>(key & 7);
    if (field == 1) {
      expect_wire_type(w, field, type, 1);
      e.wall_time_bits = w.fixed(8);
    } else if (field == 2) {
      expect_wire_type(w, field, type, 0);
      e.step = static_cast<std::int64_t>(w.varint());  // int64: two's complement in 64 bits
    } else if (field == 3) {
      expect_wire_type(w, field, type, 2);
      e.has_file_version = true;
      e.file_version = std::string(w.length_delimited());
    } else if (field == 5) {
      expect_wire_type(w, field, type, 2);
      e.has_summary = true;
      Wire summary(w.length_delimited(), where + " summary");
      while (!summary.done()) {
        const std::uint64_t k = summary.varint();
        const auto f = static_cast<std::uint32_t>(k >> 3), t = static_cast<std::uint32_t>(k & 7);
        if (f == 1) {
          expect_wire_type(summary, f, t, 2);
          e.values.push_back(decode_value(summary.length_delimited(), where + " value"));
        } else {
          summary.skip(t);
        }
      }
    } else {
      w.skip(type);
    }
  }
  return e;
}

}  // namespace tfevents_detail

// Every event of an event file's bytes, in order. Throws std::runtime_error on any damage.
inline std::vector<TfEvent> read_tfevents(const std::string& bytes) {
  using namespace tfevents_detail;
  std::vector<TfEvent> events;
  std::size_t pos = 0;
  for (int record = 0; pos < bytes.size(); ++record) {
    const std::string where = "record " + std::to_string(record);
    if (bytes.size() - pos < 12) throw std::runtime_error(where + ": torn header");
    const std::string_view length_bytes(bytes.data() + pos, 8);
    const std::uint64_t length = little_endian(length_bytes);
    if (little_endian(std::string_view(bytes.data() + pos + 8, 4)) != masked_crc(length_bytes)) {
      throw std::runtime_error(where + ": length crc mismatch");
    }
    pos += 12;
    if (length > bytes.size() - pos || bytes.size() - pos - length < 4) {
      throw std::runtime_error(where + ": torn data");
    }
    const std::string_view data(bytes.data() + pos, static_cast<std::size_t>(length));
    pos += static_cast<std::size_t>(length);
    if (little_endian(std::string_view(bytes.data() + pos, 4)) != masked_crc(data)) {
      throw std::runtime_error(where + ": data crc mismatch");
    }
    pos += 4;
    events.push_back(decode_event(data, where));
  }
  return events;
}

}  // namespace repro::testing
