// ByteRange: the Range header of a download (RFC 9110, 14.2), parsed against the file's size.
// Untrusted input: any string must give an answer, never a range outside the file.
#pragma once

#include <cstdint>
#include <string>

namespace strata::server {

// A Range header against a file of size bytes (RFC 9110, 14.2). One range is honoured (clamped to
// the file); several, or a malformed header, are ignored and the whole file is sent, as the RFC
// allows. A first byte at or past the end is unsatisfiable (416).
struct ByteRange {
  bool partial = false;
  bool unsatisfiable = false;
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// The range a header asks of a file of `size` bytes. Not partial: send the whole file (no header, a
// malformed one, several ranges). Unsatisfiable: answer 416.
ByteRange ParseRange(const std::string& header, uint64_t size);

}  // namespace strata::server
