// Fuzzes the Range header parser of downloads: the first 8 bytes are the file's size, the rest the
// header. Whatever the header, the answer is the whole file, a 416, or a range inside the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "server/byte_range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t file_size = 0;
  if (size >= sizeof file_size) {
    std::memcpy(&file_size, data, sizeof file_size);
    data += sizeof file_size;
    size -= sizeof file_size;
  }
  file_size %= 1u << 20;  // half the inputs get small sizes, where the edges are
  if (size > 0 && data[0] & 1) file_size = UINT64_MAX - file_size;
  const std::string header(reinterpret_cast<const char*>(data), size);
  const strata::server::ByteRange r = strata::server::ParseRange(header, file_size);
  if (r.partial && r.unsatisfiable) std::abort();
  if (r.partial && (r.first > r.last || r.last >= file_size)) std::abort();
  return 0;
}
