// UTF-8 validation (RFC 3629 table 3-7) and a small East-Asian-width approximation.
#include "support/utf8.hpp"

#include <cstdint>

namespace rapa::support {
namespace {

struct Decoded {
  char32_t code_point;
  std::size_t length;  // 0 when the sequence is malformed
};

Decoded decode(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  std::size_t length = 0;
  char32_t cp = 0;
  std::uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) { length = 2; cp = b0 & 0x1F; }
  else if (b0 == 0xE0) { length = 3; cp = b0 & 0x0F; lo = 0xA0; }
  else if (b0 == 0xED) { length = 3; cp = b0 & 0x0F; hi = 0x9F; }  // no surrogates
  else if (b0 >= 0xE1 && b0 <= 0xEF) { length = 3; cp = b0 & 0x0F; }
  else if (b0 == 0xF0) { length = 4; cp = b0 & 0x07; lo = 0x90; }
  else if (b0 >= 0xF1 && b0 <= 0xF3) { length = 4; cp = b0 & 0x07; }
  else if (b0 == 0xF4) { length = 4; cp = b0 & 0x07; hi = 0x8F; }
  else return {0, 0};
  if (i + length > text.size()) return {0, 0};
  for (std::size_t k = 1; k < length; ++k) {
    const std::uint8_t b = byte(i + k);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return {0, 0};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, length};
}

bool is_wide(char32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto d = decode(text, i);
    if (d.length == 0) return i;
    i += d.length;
  }
  return std::nullopt;
}

std::size_t display_width(std::string_view text) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto d = decode(text, i);
    if (d.length == 0) { ++width; ++i; continue; }  // shown as one replacement column
    width += d.code_point == '\t' ? 1 : (is_wide(d.code_point) ? 2 : 1);
    i += d.length;
  }
  return width;
}

}  // namespace rapa::support
