#include "sink/xml_text.h"

#include <array>

#include "common/text.h"

namespace strata {

namespace {

// 0: copied as is. 1: looked at (markup, controls, '_', every non-ASCII byte).
constexpr std::array<uint8_t, 256> kCellClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] =
        (c < 0x20 && c != '\t' && c != '\n') || c >= 0x80 || c == '&' || c == '<' || c == '>' || c == '_' || c == '\r';
  return t;
}();

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "_xHHHH_" starts at s[i]: Excel would decode it, so its '_' must be escaped.
bool LooksLikeEscape(std::string_view s, size_t i) {
  if (i + 7 > s.size() || (s[i + 1] != 'x' && s[i + 1] != 'X') || s[i + 6] != '_') return false;
  return IsHex(s[i + 2]) && IsHex(s[i + 3]) && IsHex(s[i + 4]) && IsHex(s[i + 5]);
}

}  // namespace

bool AppendXmlCellText(std::string_view text, ByteBuffer* out, TextRepairs* repairs) {
  const char* p = text.data();
  const size_t n = text.size();
  // UTF-16 units never outnumber UTF-8 bytes: short text cannot pass the limit.
  const bool may_be_long = n > kExcelMaxCellChars;
  size_t units = 0;
  size_t i = 0;
  auto room = [&](size_t u) { return !may_be_long || units + u <= kExcelMaxCellChars; };
  while (i < n) {
    const size_t start = i;
    while (i < n && kCellClass[static_cast<unsigned char>(p[i])] == 0) ++i;
    if (i > start) {
      size_t take = i - start;
      if (!room(take)) {
        out->Append(p + start, kExcelMaxCellChars - units);
        ++repairs->truncated_cells;
        return true;
      }
      out->Append(p + start, take);
      units += take;
    }
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x80) {
      if (!room(1)) break;
      switch (c) {
        case '&': out->AppendLiteral("&amp;"); break;
        case '<': out->AppendLiteral("&lt;"); break;
        case '>': out->AppendLiteral("&gt;"); break;
        case '\r': out->AppendLiteral("&#13;"); break;
        case '_':
          if (LooksLikeEscape(text, i)) {
            out->AppendLiteral("_x005F_");
          } else {
            out->Push('_');
          }
          break;
        default:  // a control character XML 1.0 cannot carry
          ++repairs->dropped_characters;
          ++i;
          continue;
      }
      ++units;
      ++i;
      continue;
    }
    const size_t len = Utf8SequenceLength(text.substr(i));
    if (len == 0) {
      if (!room(1)) break;
      out->AppendLiteral("\xEF\xBF\xBD");
      ++repairs->invalid_utf8;
      ++units;
      i += Utf8InvalidLength(text.substr(i));
      continue;
    }
    const uint32_t cp = Utf8Decode(text.substr(i), len);
    if (cp == 0xFFFE || cp == 0xFFFF) {
      ++repairs->dropped_characters;
      i += len;
      continue;
    }
    const size_t u = cp >= 0x10000 ? 2 : 1;
    if (!room(u)) break;
    out->Append(p + i, len);
    units += u;
    i += len;
  }
  if (i < n) {
    ++repairs->truncated_cells;
    return true;
  }
  return false;
}

void AppendXmlEscaped(std::string_view text, ByteBuffer* out) {
  const std::string repaired = RepairUtf8(text);
  for (char ch : repaired) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '&': out->AppendLiteral("&amp;"); break;
      case '<': out->AppendLiteral("&lt;"); break;
      case '>': out->AppendLiteral("&gt;"); break;
      case '"': out->AppendLiteral("&quot;"); break;
      case '\'': out->AppendLiteral("&apos;"); break;
      default:
        if (c >= 0x20 || c == '\t' || c == '\n') out->Push(ch);
        break;
    }
  }
}

}  // namespace strata
