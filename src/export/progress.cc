#include "export/progress.h"

#include <string>

#include "common/text.h"

namespace strata::exporting {

std::string FormatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1000) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(bytes) / 1e3);
  } else if (bytes < 1000ull * 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(bytes) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GB", static_cast<double>(bytes) / 1e9);
  }
  return buf;
}

void ProgressLine::Update(const Progress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const double secs = std::chrono::duration<double>(p.elapsed).count();
  const auto rate = secs > 0 ? static_cast<uint64_t>(static_cast<double>(p.rows) / secs) : 0;
  const auto whole = static_cast<long long>(secs);
  std::fprintf(stream_, "\r\033[K  %s rows  %s rows/s  %s  %lld:%02lld", GroupThousands(p.rows).c_str(),
               GroupThousands(rate).c_str(), FormatBytes(p.bytes).c_str(), whole / 60, whole % 60);
  std::fflush(stream_);
  drawn_ = true;
}

void ProgressLine::Clear() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stream_, "\r\033[K");
  std::fflush(stream_);
  drawn_ = false;
}

}  // namespace strata::exporting
