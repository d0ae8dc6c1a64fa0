#include "common/value.h"

#include <charconv>
#include <cstdio>

namespace strata {

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kBool: return "bool";
    case Type::kInt64: return "int64";
    case Type::kDouble: return "double";
    case Type::kNumeric: return "numeric";
    case Type::kText: return "text";
    case Type::kDate: return "date";
    case Type::kTimestamp: return "timestamp";
    case Type::kTimestampTz: return "timestamptz";
    case Type::kBytes: return "bytes";
  }
  return "unknown";
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* year, unsigned* month, unsigned* day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (*month <= 2);
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t k = pos; k < pos + n; ++k) {
    if (s[k] < '0' || s[k] > '9') return false;
    v = v * 10 + (s[k] - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses the date part at the start of text; returns the days and sets *consumed.
std::optional<int64_t> ParseDatePrefix(std::string_view s, size_t* consumed) {
  int y, m, d;
  if (!Digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !Digits(s, 5, 2, &m) || s[7] != '-' ||
      !Digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, static_cast<unsigned>(m))) {
    return std::nullopt;
  }
  *consumed = 10;
  return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
}

}  // namespace

std::optional<int64_t> ParseDate(std::string_view text) {
  size_t used = 0;
  auto days = ParseDatePrefix(text, &used);
  if (!days || used != text.size()) return std::nullopt;
  return days;
}

std::optional<int64_t> ParseTimestamp(std::string_view s, bool allow_zone) {
  size_t pos = 0;
  auto days = ParseDatePrefix(s, &pos);
  if (!days) return std::nullopt;
  if (pos >= s.size() || (s[pos] != ' ' && s[pos] != 'T')) return std::nullopt;
  ++pos;
  int hh, mm, ss = 0;
  if (!Digits(s, pos, 2, &hh) || pos + 2 >= s.size() || s[pos + 2] != ':' || !Digits(s, pos + 3, 2, &mm)) {
    return std::nullopt;
  }
  pos += 5;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (!Digits(s, pos + 1, 2, &ss)) return std::nullopt;
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int64_t scale = 100000;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (scale == 0) return std::nullopt;
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  if (hh > 23 || mm > 59 || ss > 59) {
    if (!(hh == 24 && mm == 0 && ss == 0 && micros == 0)) return std::nullopt;
  }
  int64_t total = *days * kMicrosPerDay + (int64_t{hh} * 3600 + mm * 60 + ss) * kMicrosPerSecond + micros;
  if (pos == s.size()) return total;
  if (!allow_zone) return std::nullopt;
  if (s[pos] == 'Z' && pos + 1 == s.size()) return total;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const int sign = s[pos] == '+' ? 1 : -1;
  ++pos;
  int oh, om = 0, os = 0;
  if (!Digits(s, pos, 2, &oh)) return std::nullopt;
  pos += 2;
  if (pos < s.size() && s[pos] == ':') ++pos;
  if (pos < s.size()) {
    if (!Digits(s, pos, 2, &om)) return std::nullopt;
    pos += 2;
    if (pos < s.size() && s[pos] == ':') {  // PostgreSQL prints seconds for historic zones
      if (!Digits(s, pos + 1, 2, &os)) return std::nullopt;
      pos += 3;
    }
  }
  if (pos != s.size() || oh > 15 || om > 59 || os > 59) return std::nullopt;
  return total - sign * (int64_t{oh} * 3600 + om * 60 + os) * kMicrosPerSecond;
}

namespace {

// Writes value as exactly `width` decimal digits (REQUIRES: 0 <= value < 10^width).
char* Digits(char* out, int64_t value, int width) {
  for (int k = width - 1; k >= 0; --k) {
    out[k] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

}  // namespace

// By hand, not snprintf: an export of dates and timestamps spent a fifth of its time in printf.
size_t FormatDateTo(int64_t days, char* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (y < 0 || y > 9999) {
    return static_cast<size_t>(std::snprintf(out, 40, "%+05lld-%02u-%02u", static_cast<long long>(y), m, d));
  }
  char* p = Digits(out, y, 4);
  *p++ = '-';
  p = Digits(p, m, 2);
  *p++ = '-';
  p = Digits(p, d, 2);
  return static_cast<size_t>(p - out);
}

size_t FormatTimestampTo(int64_t micros, char* out) {
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  char* p = out + FormatDateTo(days, out);
  const int64_t secs = rest / kMicrosPerSecond;
  int64_t frac = rest % kMicrosPerSecond;
  *p++ = ' ';
  p = Digits(p, secs / 3600, 2);
  *p++ = ':';
  p = Digits(p, secs / 60 % 60, 2);
  *p++ = ':';
  p = Digits(p, secs % 60, 2);
  if (frac != 0) {
    int len = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --len;
    }
    *p++ = '.';
    p = Digits(p, frac, len);
  }
  return static_cast<size_t>(p - out);
}

std::string FormatDate(int64_t days) {
  char buf[40];
  return std::string(buf, FormatDateTo(days, buf));
}

std::string FormatTimestamp(int64_t micros) {
  char buf[40];
  return std::string(buf, FormatTimestampTo(micros, buf));
}

}  // namespace strata
