// For tests only: reads a ZIP archive from memory through its central directory (ZIP64 included)
// and inflates entries with zlib, an implementation independent of the writer's.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace strata::testing {

struct UnzippedEntry {
  std::string data;
  uint32_t crc = 0;    // as recorded in the central directory
  bool zip64 = false;  // the central directory entry had a ZIP64 extra field
};

inline uint64_t Le(const std::string& s, size_t at, int bytes) {
  if (at + static_cast<size_t>(bytes) > s.size()) throw std::runtime_error("zip: read past the end");
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(k)]);
  return v;
}

inline std::string Inflate(const std::string& compressed, uint64_t size) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) throw std::runtime_error("inflateInit2");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  inflateEnd(&z);
  if (rc != Z_STREAM_END || z.total_out != size) throw std::runtime_error("inflate failed");
  return out;
}

// Name -> entry. Throws on any structural problem.
inline std::map<std::string, UnzippedEntry> Unzip(const std::string& zip) {
  const size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
  if (eocd == std::string::npos) throw std::runtime_error("zip: no end record");
  uint64_t count = Le(zip, eocd + 10, 2);
  uint64_t cd_offset = Le(zip, eocd + 16, 4);
  if (count == 0xFFFF || cd_offset == 0xFFFFFFFF) {
    const uint64_t locator = eocd - 20;
    if (Le(zip, locator, 4) != 0x07064b50) throw std::runtime_error("zip: no ZIP64 locator");
    const uint64_t end64 = Le(zip, locator + 8, 8);
    if (Le(zip, end64, 4) != 0x06064b50) throw std::runtime_error("zip: no ZIP64 end record");
    count = Le(zip, end64 + 32, 8);
    cd_offset = Le(zip, end64 + 48, 8);
  }
  std::map<std::string, UnzippedEntry> out;
  size_t p = cd_offset;
  for (uint64_t k = 0; k < count; ++k) {
    if (Le(zip, p, 4) != 0x02014b50) throw std::runtime_error("zip: bad central header");
    const uint32_t crc = static_cast<uint32_t>(Le(zip, p + 16, 4));
    uint64_t csize = Le(zip, p + 20, 4), usize = Le(zip, p + 24, 4);
    const size_t name_len = Le(zip, p + 28, 2), extra_len = Le(zip, p + 30, 2), comment_len = Le(zip, p + 32, 2);
    uint64_t offset = Le(zip, p + 42, 4);
    const std::string name = zip.substr(p + 46, name_len);
    UnzippedEntry e;
    size_t x = p + 46 + name_len;
    const size_t extra_end = x + extra_len;
    while (x + 4 <= extra_end) {
      const uint64_t id = Le(zip, x, 2), len = Le(zip, x + 2, 2);
      if (id == 1) {
        e.zip64 = true;
        size_t q = x + 4;
        if (usize == 0xFFFFFFFF) usize = Le(zip, q, 8), q += 8;
        if (csize == 0xFFFFFFFF) csize = Le(zip, q, 8), q += 8;
        if (offset == 0xFFFFFFFF) offset = Le(zip, q, 8);
      }
      x += 4 + len;
    }
    if (Le(zip, offset, 4) != 0x04034b50) throw std::runtime_error("zip: bad local header for " + name);
    const size_t data = offset + 30 + Le(zip, offset + 26, 2) + Le(zip, offset + 28, 2);
    e.data = Inflate(zip.substr(data, csize), usize);
    e.crc = crc;
    if (static_cast<uint32_t>(
            crc32(0, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size()))) != crc) {
      throw std::runtime_error("zip: CRC mismatch in " + name);
    }
    out[name] = std::move(e);
    p += 46 + name_len + extra_len + comment_len;
  }
  return out;
}

}  // namespace strata::testing
