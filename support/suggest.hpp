// "Did you mean ...": the nearest known name to a misspelt one.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rapa::support {

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), ASCII
/// case-insensitive, computed only up to `limit` (larger distances return limit + 1).
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

/// The candidate closest to `word` if it is close enough to be a plausible typo: at most one
/// edit for short names, about a third of the length for longer ones. Ties go to the candidate
/// listed first, so the answer is deterministic.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace rapa::support
