// UTF-8 validation and display width, shared by file loading and caret rendering.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace rapa::support {

/// Offset of the first byte that does not start or continue a well-formed UTF-8 sequence
/// (overlong forms and surrogates included), or nullopt when the whole text is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

/// Terminal columns the text occupies: one per code point, two for East Asian wide ones
/// (Chinese drug names), so that a caret lands under the right character.
std::size_t display_width(std::string_view text);

}  // namespace rapa::support
