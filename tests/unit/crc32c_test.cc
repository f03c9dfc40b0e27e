// util/crc32c.h: CRC-32C known answers (RFC 3720 B.4, the "check" value of the catalogue of
// CRCs) and TFRecord's mask.
#include "util/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace repro::internal {
namespace {

std::string bytes(std::size_t n, int first, int step) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(first + step * static_cast<int>(i)));
  return s;
}

TEST(Crc32cTest, MatchesRfc3720Vectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(crc32c(bytes(32, 0, 1)), 0x46DD794Eu);    // 0x00, 0x01, ... 0x1f
  EXPECT_EQ(crc32c(bytes(32, 31, -1)), 0x113FDB5Cu);  // 0x1f, 0x1e, ... 0x00
}

TEST(Crc32cTest, MatchesTheCheckValue) {
  EXPECT_EQ(crc32c(std::string("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string()), 0u);
  EXPECT_EQ(crc32c(std::string("a")), 0xC1D04330u);
}

TEST(Crc32cTest, IncrementalUpdateEqualsOneShot) {
  const std::string data = bytes(32, 0, 1) + "123456789" + std::string(32, '\xff');
  const std::uint32_t whole = crc32c(data);
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    const std::uint32_t head = crc32c(data.data(), cut);
    EXPECT_EQ(crc32c_extend(head, data.data() + cut, data.size() - cut), whole) << "cut at " << cut;
  }
  std::uint32_t byte_by_byte = 0;
  for (const char c : data) byte_by_byte = crc32c_extend(byte_by_byte, &c, 1);
  EXPECT_EQ(byte_by_byte, whole);
}

TEST(Crc32cTest, MaskIsTfRecordsRotationPlusDelta) {
  // ((c >> 15) | (c << 17)) + 0xa282ead8, computed apart from this code (Python, bit by bit).
  EXPECT_EQ(crc32c_mask(0u), 0xa282ead8u);
  EXPECT_EQ(crc32c_mask(0xE3069283u), 0xC78AB0E5u);
  EXPECT_EQ(crc32c_mask(0x8A9136AAu), 0x0FD7FFFAu);
  // A TFRecord length of 0: its 8 bytes' CRC and the masked CRC stored after them.
  EXPECT_EQ(crc32c(std::string(8, '\0')), 0x8C28B28Au);
  EXPECT_EQ(crc32c_mask(0x8C28B28Au), 0x07980329u);
  for (const std::uint32_t c : {0u, 1u, 0x80000000u, 0xffffffffu, 0xE3069283u, 0x5d5d5d5du}) {
    EXPECT_EQ(crc32c_unmask(crc32c_mask(c)), c);
    EXPECT_NE(crc32c_mask(c), c);
  }
}

}  // namespace
}  // namespace repro::internal
