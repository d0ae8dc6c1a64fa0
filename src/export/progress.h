// ProgressLine: the one-line progress display on a terminal's stderr
// ("  1,234,567 rows  412,000 rows/s  38.2 MB  0:03"), redrawn at most four times a second.
#pragma once

#include <chrono>
#include <cstdio>

#include "export/exporter.h"

namespace strata::exporting {

class ProgressLine {
 public:
  // Draws only when enabled (the CLI enables it when stderr is a terminal and not --quiet).
  ProgressLine(std::FILE* stream, bool enabled) : stream_(stream), enabled_(enabled) {}
  void Update(const Progress& p);
  // Erases the line, so that what follows starts on a clean one.
  void Clear();

 private:
  std::FILE* stream_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// "38.2 MB", "512 B".
std::string FormatBytes(uint64_t bytes);

}  // namespace strata::exporting
