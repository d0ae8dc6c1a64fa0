// The typed column model shared by sources and sinks.
//
// A query's result is a list of Columns, each with a name and a declared Type, and rows of Values.
// A Value carries its own type because SQLite is dynamically typed: a column declared INTEGER may
// hold text in some rows. Dates are days since 1970-01-01 (proleptic Gregorian); timestamps are
// microseconds since 1970-01-01 00:00:00 (UTC for kTimestampTz). Exact numerics keep their decimal
// text so that no digit is lost on the way to a sink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

enum class Type : uint8_t {
  kNull,
  kBool,
  kInt64,
  kDouble,
  kNumeric,      // exact decimal, kept as text ("-12.50", "1e30")
  kText,         // UTF-8 as the database returned it; may be invalid, sinks repair it
  kDate,         // days since 1970-01-01
  kTimestamp,    // microseconds since 1970-01-01 00:00:00, no time zone
  kTimestampTz,  // microseconds since 1970-01-01 00:00:00 UTC
  kBytes,        // raw bytes
};

// The lower-case name used in docs and messages ("timestamptz").
std::string_view TypeName(Type type);

struct Column {
  std::string name;
  Type type = Type::kText;  // the declared type; individual values may still be kNull
};

// One cell. Text-like payloads (kNumeric, kText, kBytes) live in the owning Batch's arena at
// [offset, offset + length); use Batch::Text() to read them.
struct Value {
  Type type = Type::kNull;
  union {
    bool b;
    int64_t i;  // kInt64; also days (kDate) and microseconds (kTimestamp, kTimestampTz)
    double d;
  };
  uint32_t length = 0;
  uint64_t offset = 0;

  Value() : i(0) {}
};

// Calendar arithmetic (proportional Gregorian, H. Hinnant's algorithms).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Parses "YYYY-MM-DD" (exactly; a valid calendar date). Returns days since 1970-01-01.
std::optional<int64_t> ParseDate(std::string_view text);

// Parses "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (a 'T' may replace the space) followed, when allow_zone,
// by an optional zone "Z", "+HH", "+HH:MM", "+HHMM" (or '-'). Returns microseconds since the epoch,
// converted to UTC when a zone is given. Fractions beyond microseconds are rejected.
std::optional<int64_t> ParseTimestamp(std::string_view text, bool allow_zone);

// "YYYY-MM-DD"; years outside 0..9999 are written with a sign as ISO 8601 allows.
std::string FormatDate(int64_t days);
// "YYYY-MM-DD HH:MM:SS" plus ".ffffff" (trailing zeros trimmed) when there is a fraction.
std::string FormatTimestamp(int64_t micros);

// Writes FormatDate/FormatTimestamp into out (which must hold 40 bytes); returns the length.
size_t FormatDateTo(int64_t days, char* out);
size_t FormatTimestampTo(int64_t micros, char* out);

}  // namespace strata
