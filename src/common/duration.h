// Durations as people write them in strata.toml and on the command line: "250ms", "30s", "10min",
// "2h", "1d". A bare number is rejected: the unit is never guessed.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest exact spelling: 600000ms -> "10min".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace strata
