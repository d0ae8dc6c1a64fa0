#include "server/byte_range.h"

#include <cctype>
#include <charconv>

namespace strata::server {

ByteRange ParseRange(const std::string& header, uint64_t size) {
  ByteRange r;
  const std::string prefix = "bytes=";  // the unit is case-insensitive (RFC 9110, 14.1)
  if (header.size() < prefix.size() || header.find(',') != std::string::npos) return r;
  for (size_t k = 0; k < prefix.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(header[k])) != prefix[k]) return r;
  }
  const std::string spec = header.substr(prefix.size());
  const size_t dash = spec.find('-');
  if (dash == std::string::npos) return r;
  auto number = [](const std::string& text, uint64_t* out) {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
    return ec == std::errc() && end == text.data() + text.size();
  };
  uint64_t a = 0;
  uint64_t b = 0;
  const std::string left = spec.substr(0, dash);
  const std::string right = spec.substr(dash + 1);
  if (left.empty()) {  // the last b bytes
    if (!number(right, &b) || b == 0) {
      r.unsatisfiable = !right.empty() && b == 0 && number(right, &b);
      return r;
    }
    if (size == 0) {
      r.unsatisfiable = true;
      return r;
    }
    r.partial = true;
    r.first = b >= size ? 0 : size - b;
    r.last = size - 1;
    return r;
  }
  if (!number(left, &a)) return r;
  if (!right.empty() && (!number(right, &b) || b < a)) return r;
  if (a >= size) {
    r.unsatisfiable = true;
    return r;
  }
  r.partial = true;
  r.first = a;
  r.last = right.empty() || b >= size ? size - 1 : b;
  return r;
}

}  // namespace strata::server
