// Deflater: raw DEFLATE (RFC 1951) with ISA-L's igzip, the fastest compressor Debian ships, and
// CRC-32 with its carry-less-multiply routine. The output is ordinary deflate that every ZIP reader,
// Excel's included, inflates. bench/RESULTS.md has the measurements behind the choice.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/status.h"

namespace strata {

class Deflater {
 public:
  // level: 0 (fastest) to 3 (smallest), igzip's levels.
  explicit Deflater(int level);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // Starts a new stream.
  void Reset();
  // Compresses input and hands every filled output chunk to sink; with last, ends the stream.
  Status Compress(std::string_view input, bool last, const std::function<Status(std::string_view)>& sink);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// CRC-32 (the ZIP and gzip polynomial), continuing from crc (0 to start).
uint32_t Crc32(uint32_t crc, std::string_view data);

}  // namespace strata
