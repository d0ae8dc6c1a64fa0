#include "common/duration.h"

#include <charconv>
#include <cstdint>

namespace strata {

namespace {
struct Unit {
  std::string_view name;
  int64_t ms;
};
constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"min", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
}  // namespace

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data() || n < 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      if (n > INT64_MAX / u.ms) return std::nullopt;
      return std::chrono::milliseconds(n * u.ms);
    }
  }
  return std::nullopt;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (ms != 0 && ms % it->ms == 0) return std::to_string(ms / it->ms) + std::string(it->name);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace strata
