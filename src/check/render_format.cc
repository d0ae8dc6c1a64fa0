#include "check/render_format.h"

#include <algorithm>
#include <cctype>
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

namespace {

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// s repaired, control characters as spaces, without leading and trailing spaces.
std::string OneLine(std::string_view s) {
  std::string line = RepairUtf8(s);
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  const size_t first = line.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return line.substr(first, line.find_last_not_of(' ') + 1 - first);
}

// Where a line that starts with s would start a list, a thematic break or a setext heading: the
// index of the character to escape ("-", "+", "=", or the "." or ")" that ends up to nine digits
// before a space or the end, "1. "), else npos.
size_t LeadingMarker(std::string_view s) {
  if (s.empty()) return std::string_view::npos;
  if (s[0] == '-' || s[0] == '+' || s[0] == '=') return 0;
  size_t digits = 0;
  while (digits < s.size() && digits < 10 && s[digits] >= '0' && s[digits] <= '9') ++digits;
  const bool ordered = digits > 0 && digits < 10 && digits < s.size() && (s[digits] == '.' || s[digits] == ')') &&
                       (digits + 1 == s.size() || s[digits + 1] == ' ');
  return ordered ? digits : std::string_view::npos;
}

// An underscore between two ASCII letters or digits can neither open nor close emphasis
// (CommonMark 0.30, 6.2), so names like member_activity stay readable.
bool InertUnderscore(std::string_view s, size_t i) {
  return i > 0 && i + 1 < s.size() && IsAsciiAlnum(s[i - 1]) && IsAsciiAlnum(s[i + 1]);
}

// GitHub links "http://..." and "www...." in text by itself; an escaped ':' or '.' stops it.
bool StartsAutolink(std::string_view s, size_t i) {
  if (s[i] == ':') return s.substr(i + 1, 2) == "//";
  if (s[i] != '.' || i < 3) return false;
  std::string www(s.substr(i - 3, 3));
  for (char& c : www) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return www == "www";
}

}  // namespace

namespace {

// A ':' that could open an emoji shortcode (":+1:", ":tada:"): at the start or after a non-word
// character, and followed by one.
bool StartsShortcode(const std::string& line, size_t i) {
  const auto word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-';
  };
  return (i == 0 || !word(line[i - 1])) && i + 1 < line.size() && word(line[i + 1]);
}

}  // namespace

std::string EscapeMarkdown(std::string_view s) {
  const std::string line = OneLine(s);
  const size_t marker = LeadingMarker(line);
  std::string out;
  out.reserve(line.size() + line.size() / 8);
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    switch (c) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '\\':
      case '`':
      case '*':
      case '[':
      case ']':
      case '|':
      case '~':
      case '#':
      case '$': out += '\\'; break;
      case '_':
        if (!InertUnderscore(line, i)) out += '\\';
        break;
      case '@':  // a word joiner after it: no @mention that notifies people
        out += "@\u2060";
        continue;
      default:
        if (i == marker || StartsAutolink(line, i)) out += '\\';
        break;
    }
    out += c;
    if (c == ':' && StartsShortcode(line, i)) out += "\u2060";  // no :emoji:
  }
  return out;
}

std::string MarkdownCodeBlock(std::string_view content, std::string_view info) {
  std::string text;
  const std::string repaired = RepairUtf8(content);
  size_t run = 0, longest = 0;
  for (char c : repaired) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') text += c;
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  const std::string fence(std::max<size_t>(3, longest + 1), '`');
  return fence + std::string(info) + "\n" + text + fence + "\n\n";
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
