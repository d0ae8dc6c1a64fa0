// Report parameters: their declared types and the parsing of values given by people
// (`--param from=2024-01-01`, a default in strata.toml, a field of an API request).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace strata {

enum class ParamType { kInt, kBigint, kNumeric, kText, kDate, kTimestamp, kTimestamptz, kBool };

// "int", "bigint", "numeric", "text", "date", "timestamp", "timestamptz", "bool".
std::string_view ParamTypeName(ParamType type);
std::optional<ParamType> ParamTypeFromName(std::string_view name);
// "int, bigint, ..." for messages.
std::string ParamTypeNames();

// A parsed value, ready to bind. `text` is the canonical spelling: an integer without sign noise,
// a date "YYYY-MM-DD", a timestamp "YYYY-MM-DD HH:MM:SS[.ffffff]" (timestamptz converted to UTC),
// a bool "true"/"false". `integer` holds the value of int, bigint and bool (0/1).
struct ParamValue {
  ParamType type = ParamType::kText;
  std::string text;
  int64_t integer = 0;
};

// Parses text as a value of the type. The error says what was expected, not where: the caller
// adds the parameter's name and origin.
Result<ParamValue> ParseParamValue(ParamType type, std::string_view text);

// For ad hoc queries: bigint if text is an integer, numeric if a decimal, date, timestamp, bool for
// true/false, text otherwise.
ParamType InferParamType(std::string_view text);

}  // namespace strata
