#include "check/render_format.h"

#include <charconv>
#include <cmath>

#include "common/text.h"

namespace strata::check {

void AppendXml(std::string_view s, XmlContext context, std::string* out) {
  const bool attribute = context == XmlContext::kAttribute;
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': *out += "&amp;"; break;
        case '<': *out += "&lt;"; break;
        case '>': *out += "&gt;"; break;
        case '"': *out += "&quot;"; break;
        case '\'': *out += "&apos;"; break;
        case '\r': *out += "&#13;"; break;
        case '\t': *out += attribute ? "&#9;" : "\t"; break;
        case '\n': *out += attribute ? "&#10;" : "\n"; break;
        default:
          if (c >= 0x20) out->push_back(static_cast<char>(c));
          break;
      }
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(s.substr(i));
    if (len == 0) {
      *out += "\xEF\xBF\xBD";
      i += Utf8InvalidLength(s.substr(i));
      continue;
    }
    const uint32_t cp = Utf8Decode(s.substr(i), len);
    if (cp != 0xFFFE && cp != 0xFFFF) out->append(s.substr(i, len));
    i += len;
  }
}

void AppendEscapedHtml(std::string_view s, std::string* out) {
  AppendXml(s, XmlContext::kText, out);
}

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendEscapedHtml(s, &out);
  return out;
}

std::string FormatFixed(double v, int precision) {
  if (!std::isfinite(v)) return "0";
  char buf[400];  // the longest double in fixed notation has 309 integer digits
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : "0";
}

std::string FormatMs(double ms) {
  if (!std::isfinite(ms) || ms < 0) return "—";
  if (ms < 1) return FormatFixed(ms, 3);
  if (ms < 10) return FormatFixed(ms, 2);
  if (ms < 1000) return FormatFixed(ms, 1);
  return FormatCount(ms);
}

std::string FormatCount(int64_t n) {
  return n < 0 ? "—" : GroupThousands(static_cast<uint64_t>(n));
}

std::string FormatCount(double n) {
  if (!std::isfinite(n) || n < 0) return "—";
  if (n >= 9.2e18) return FormatFixed(n, 0);
  return GroupThousands(static_cast<uint64_t>(std::llround(n)));
}

std::string FormatRatio(const TenantResult& tenant) {
  const bool known = std::isfinite(tenant.ratio) && tenant.ratio > 0;
  if (tenant.candidate.timed_out) return known ? "≥ " + FormatFixed(tenant.ratio, 2) + "× (timed out)" : "timed out";
  if (!known) return "—";
  return FormatFixed(tenant.ratio, 2) + "×";
}

}  // namespace strata::check
