#include "source/pg_binary.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/value.h"

namespace strata::pg {

namespace {

// Type OIDs from PostgreSQL's pg_type.dat; they are fixed for built-in types.
enum : uint32_t {
  kBool = 16,
  kBytea = 17,
  kName = 19,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kText = 25,
  kOid = 26,
  kJson = 114,
  kFloat4 = 700,
  kFloat8 = 701,
  kUnknown = 705,
  kBpchar = 1042,
  kVarchar = 1043,
  kDate = 1082,
  kTimestamp = 1114,
  kTimestamptz = 1184,
  kNumeric = 1700,
  kUuid = 2950,
  kJsonb = 3802,
};

constexpr int64_t kEpochShiftDays = 10957;  // 2000-01-01 (PostgreSQL's epoch) after 1970-01-01
constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

uint64_t BigEndian(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t k = 0; k < n; ++k) v = (v << 8) | static_cast<unsigned char>(p[k]);
  return v;
}

int16_t Int16(const char* p) {
  return static_cast<int16_t>(static_cast<uint16_t>(BigEndian(p, 2)));
}

int32_t Int32(const char* p) {
  return static_cast<int32_t>(static_cast<uint32_t>(BigEndian(p, 4)));
}

int64_t Int64(const char* p) {
  return static_cast<int64_t>(BigEndian(p, 8));
}

// "YYYY-MM-DD" as PostgreSQL prints a date with DateStyle ISO; *bc when before year 1.
std::string PgDate(int64_t days_since_1970, bool* bc) {
  int64_t year;
  unsigned month, day;
  CivilFromDays(days_since_1970, &year, &month, &day);
  *bc = year <= 0;
  char text[48];
  std::snprintf(text, sizeof text, "%04lld-%02u-%02u", static_cast<long long>(*bc ? 1 - year : year), month, day);
  return text;
}

bool InSpreadsheetRange(int64_t days_since_1970) {
  int64_t year;
  unsigned month, day;
  CivilFromDays(days_since_1970, &year, &month, &day);
  return year >= 1 && year <= 9999;
}

void AddDate(Batch* batch, const char* p) {
  const int32_t days = Int32(p);
  if (days == std::numeric_limits<int32_t>::max()) return batch->AddText(Type::kText, "infinity");
  if (days == std::numeric_limits<int32_t>::min()) return batch->AddText(Type::kText, "-infinity");
  const int64_t since_1970 = days + kEpochShiftDays;
  if (InSpreadsheetRange(since_1970)) return batch->AddDate(since_1970);
  bool bc = false;
  std::string text = PgDate(since_1970, &bc);
  if (bc) text += " BC";
  batch->AddText(Type::kText, text);
}

void AddTimestamp(Batch* batch, const char* p, bool utc) {
  const int64_t micros = Int64(p);
  if (micros == std::numeric_limits<int64_t>::max()) return batch->AddText(Type::kText, "infinity");
  if (micros == std::numeric_limits<int64_t>::min()) return batch->AddText(Type::kText, "-infinity");
  int64_t days = micros / kMicrosPerDay;
  int64_t in_day = micros % kMicrosPerDay;
  if (in_day < 0) {
    in_day += kMicrosPerDay;
    --days;
  }
  const int64_t since_1970 = days + kEpochShiftDays;
  if (InSpreadsheetRange(since_1970)) return batch->AddTimestamp(since_1970 * kMicrosPerDay + in_day, utc);
  bool bc = false;
  std::string text = PgDate(since_1970, &bc);
  const int64_t seconds = in_day / 1000000;
  const int64_t fraction = in_day % 1000000;
  char clock[32];
  std::snprintf(clock, sizeof clock, " %02lld:%02lld:%02lld", static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  text += clock;
  if (fraction != 0) {
    char digits[8];
    std::snprintf(digits, sizeof digits, ".%06lld", static_cast<long long>(fraction));
    std::string f(digits);
    while (f.back() == '0') f.pop_back();
    text += f;
  }
  if (utc) text += "+00";
  if (bc) text += " BC";
  batch->AddText(Type::kText, text);
}

void AddUuid(Batch* batch, std::string_view b) {
  static const char kHex[] = "0123456789abcdef";
  char text[36];
  size_t at = 0;
  for (size_t k = 0; k < 16; ++k) {
    if (k == 4 || k == 6 || k == 8 || k == 10) text[at++] = '-';
    const auto byte = static_cast<unsigned char>(b[k]);
    text[at++] = kHex[byte >> 4];
    text[at++] = kHex[byte & 15];
  }
  batch->AddText(Type::kText, std::string_view(text, sizeof text));
}

// float4's text with extra_float_digits > 0 is its shortest exact form, which the text path then
// reads as a double: the same here (the float's own value, widened, would differ: 0.1f).
void AddFloat4(Batch* batch, const char* p) {
  const auto bits = static_cast<uint32_t>(BigEndian(p, 4));
  float f;
  std::memcpy(&f, &bits, sizeof f);
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, f);
  double d = f;
  if (ec == std::errc()) std::from_chars(text, end, d);
  batch->AddDouble(d);
}

void AddFloat8(Batch* batch, const char* p) {
  const uint64_t bits = BigEndian(p, 8);
  double d;
  std::memcpy(&d, &bits, sizeof d);
  batch->AddDouble(d);
}

// The size a fixed-width type's value must have; 0 for variable-width types.
size_t FixedSize(uint32_t oid) {
  switch (oid) {
    case kBool: return 1;
    case kInt2: return 2;
    case kInt4:
    case kOid:
    case kFloat4:
    case kDate: return 4;
    case kInt8:
    case kFloat8:
    case kTimestamp:
    case kTimestamptz: return 8;
    case kUuid: return 16;
    default: return 0;
  }
}

}  // namespace

bool HasBinaryDecoder(uint32_t oid) {
  switch (oid) {
    case kBool:
    case kBytea:
    case kName:
    case kInt8:
    case kInt2:
    case kInt4:
    case kText:
    case kOid:
    case kJson:
    case kFloat4:
    case kFloat8:
    case kUnknown:
    case kBpchar:
    case kVarchar:
    case kDate:
    case kTimestamp:
    case kTimestamptz:
    case kNumeric:
    case kUuid:
    case kJsonb: return true;
    default: return false;
  }
}

bool NumericText(std::string_view b, std::string* out) {
  out->clear();
  if (b.size() < 8) return false;
  const int ndigits = Int16(b.data());
  const int weight = Int16(b.data() + 2);
  const auto sign = static_cast<uint16_t>(BigEndian(b.data() + 4, 2));
  const int dscale = Int16(b.data() + 6);
  if (ndigits < 0 || dscale < 0 || b.size() != 8 + 2 * static_cast<size_t>(ndigits)) return false;
  if (sign == 0xC000) return *out = "NaN", true;
  if (sign == 0xD000) return *out = "Infinity", true;
  if (sign == 0xF000) return *out = "-Infinity", true;
  if (sign != 0x0000 && sign != 0x4000) return false;
  auto digit = [&](int d) -> int { return d >= 0 && d < ndigits ? Int16(b.data() + 8 + 2 * d) : 0; };
  for (int d = 0; d < ndigits; ++d) {
    if (digit(d) < 0 || digit(d) > 9999) return false;
  }
  if (sign == 0x4000) out->push_back('-');
  // Four decimal digits a group; the first group of the integer part without leading zeros.
  auto group = [&](int value, bool pad) {
    char text[4] = {static_cast<char>('0' + value / 1000), static_cast<char>('0' + value / 100 % 10),
                    static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
    int from = 0;
    while (!pad && from < 3 && text[from] == '0') ++from;
    out->append(text + from, static_cast<size_t>(4 - from));
  };
  int d = 0;
  if (weight < 0) {
    d = weight + 1;
    out->push_back('0');
  } else {
    for (d = 0; d <= weight; ++d) group(digit(d), d != 0);
  }
  if (dscale > 0) {
    out->push_back('.');
    const size_t end = out->size() + static_cast<size_t>(dscale);
    for (int written = 0; written < dscale; ++d, written += 4) group(digit(d), true);
    out->resize(end);
  }
  return true;
}

void AddBinaryValue(Batch* batch, uint32_t oid, std::string_view b, std::string* scratch) {
  const size_t fixed = FixedSize(oid);
  if (fixed != 0 && b.size() != fixed) {
    return batch->AddText(Type::kText, "(a value of type " + std::to_string(oid) + " that is " +
                                           std::to_string(b.size()) + " bytes long)");
  }
  const char* p = b.data();
  switch (oid) {
    case kBool: return batch->AddBool(p[0] != 0);
    case kInt2: return batch->AddInt64(Int16(p));
    case kInt4: return batch->AddInt64(Int32(p));
    case kOid: return batch->AddInt64(static_cast<int64_t>(BigEndian(p, 4)));
    case kInt8: return batch->AddInt64(Int64(p));
    case kFloat4: return AddFloat4(batch, p);
    case kFloat8: return AddFloat8(batch, p);
    case kNumeric:
      if (NumericText(b, scratch)) return batch->AddText(Type::kNumeric, *scratch);
      return batch->AddText(Type::kText, "(a numeric that cannot be read)");
    case kDate: return AddDate(batch, p);
    case kTimestamp: return AddTimestamp(batch, p, false);
    case kTimestamptz: return AddTimestamp(batch, p, true);
    case kBytea: return batch->AddText(Type::kBytes, b);
    case kUuid: return AddUuid(batch, b);
    case kJsonb:
      // A version byte (1), then the document's text.
      if (b.empty() || b[0] != 1) return batch->AddText(Type::kText, "(a jsonb value of an unknown version)");
      return batch->AddText(Type::kText, b.substr(1));
    default: return batch->AddText(Type::kText, b);  // text, varchar, bpchar, name, json, unknown
  }
}

}  // namespace strata::pg
