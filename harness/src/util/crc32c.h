// Private: CRC-32C (Castagnoli) and the masked form TFRecord files store (TensorBoard event
// files, report/tensorboard.cc).
//
// CRC-32C is the CRC with polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final
// xor 0xFFFFFFFF, bits taken least significant first: the CRC of iSCSI (RFC 3720, B.4), ext4 and
// TFRecord. crc32c("123456789") == 0xE3069283. Portable table-driven code, one byte at a time:
// no CPU instruction, so every machine gives the same answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace repro::internal {

// The CRC-32C of `data` followed by `size` bytes at `data`, where `crc` is the CRC-32C of `data`
// (0 for none): crc32c_extend(crc32c(a), b) == crc32c(a + b).
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

// The CRC-32C of `size` bytes at `data`.
inline std::uint32_t crc32c(const void* data, std::size_t size) { return crc32c_extend(0, data, size); }
inline std::uint32_t crc32c(std::string_view data) { return crc32c(data.data(), data.size()); }

// TFRecord's masked CRC, ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2^32): a CRC stored beside
// the bytes it covers, masked so that the CRC of bytes holding CRCs is not degenerate.
std::uint32_t crc32c_mask(std::uint32_t crc);
// The CRC whose crc32c_mask is `masked`.
std::uint32_t crc32c_unmask(std::uint32_t masked);

}  // namespace repro::internal
