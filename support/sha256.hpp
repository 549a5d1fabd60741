// SHA-256 (FIPS 180-4, section 6.2), streaming: feed bytes in any chunks, then take the digest.
// Used for the engine benchmark's per-patient checksums, which must match ../shared/bench's
// canon.py byte for byte; not for anything security-related.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rapa::support {

class Sha256 {
 public:
  Sha256();

  void update(std::string_view bytes);
  void update(const void* data, std::size_t size);
  /// Pads and returns the 32-byte digest. The object is spent afterwards: call reset() to reuse it.
  std::array<std::uint8_t, 32> digest();
  /// The digest as 64 lowercase hex digits.
  std::string hex_digest();
  void reset();

 private:
  void compress(const std::uint8_t* block);

  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

/// Hex digest of one whole message.
std::string sha256_hex(std::string_view bytes);

}  // namespace rapa::support
