#include "report/param.h"

#include <charconv>
#include <climits>

#include "common/value.h"

namespace strata {

namespace {

constexpr std::pair<ParamType, std::string_view> kNames[] = {
    {ParamType::kInt, "int"},
    {ParamType::kBigint, "bigint"},
    {ParamType::kNumeric, "numeric"},
    {ParamType::kText, "text"},
    {ParamType::kDate, "date"},
    {ParamType::kTimestamp, "timestamp"},
    {ParamType::kTimestamptz, "timestamptz"},
    {ParamType::kBool, "bool"},
};

std::optional<int64_t> ParseInteger(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// [+-]digits[.digits][e[+-]digits] or [+-].digits...; returns the canonical text (no '+').
std::optional<std::string> ParseDecimal(std::string_view s) {
  size_t i = 0;
  std::string out;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    if (s[i] == '-') out += '-';
    ++i;
  }
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') out += s[i++], ++digits;
  if (i < s.size() && s[i] == '.') {
    out += s[i++];
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') out += s[i++], ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    out += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) out += s[i++];
    size_t exp = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') out += s[i++], ++exp;
    if (exp == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::optional<bool> ParseBool(std::string_view s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "true" || lower == "t" || lower == "yes" || lower == "y" || lower == "on" || lower == "1") return true;
  if (lower == "false" || lower == "f" || lower == "no" || lower == "n" || lower == "off" || lower == "0") return false;
  return std::nullopt;
}

}  // namespace

std::string_view ParamTypeName(ParamType type) {
  for (const auto& [t, name] : kNames) {
    if (t == type) return name;
  }
  return "?";
}

std::optional<ParamType> ParamTypeFromName(std::string_view name) {
  for (const auto& [t, n] : kNames) {
    if (n == name) return t;
  }
  if (name == "integer" || name == "int4") return ParamType::kInt;
  if (name == "int8") return ParamType::kBigint;
  if (name == "boolean") return ParamType::kBool;
  if (name == "decimal") return ParamType::kNumeric;
  return std::nullopt;
}

std::string ParamTypeNames() {
  std::string out;
  for (const auto& [t, name] : kNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Result<ParamValue> ParseParamValue(ParamType type, std::string_view text) {
  ParamValue v;
  v.type = type;
  switch (type) {
    case ParamType::kInt:
    case ParamType::kBigint: {
      auto n = ParseInteger(text);
      if (!n) return Status::Usage("expected a whole number");
      if (type == ParamType::kInt && (*n < INT32_MIN || *n > INT32_MAX)) {
        return Status::Usage("out of range for int (use bigint for values past 2147483647)");
      }
      v.integer = *n;
      v.text = std::to_string(*n);
      return v;
    }
    case ParamType::kNumeric: {
      auto d = ParseDecimal(text);
      if (!d) return Status::Usage("expected a decimal number such as 12.50");
      v.text = *d;
      return v;
    }
    case ParamType::kText: v.text = std::string(text); return v;
    case ParamType::kDate: {
      auto days = ParseDate(text);
      if (!days) {
        const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-';
        return Status::Usage(shaped ? "there is no such day in the calendar" : "expected a date YYYY-MM-DD");
      }
      v.text = FormatDate(*days);
      return v;
    }
    case ParamType::kTimestamp:
    case ParamType::kTimestamptz: {
      const bool zone = type == ParamType::kTimestamptz;
      auto micros = ParseTimestamp(text, zone);
      if (!micros) {
        auto days = ParseDate(text);  // a bare date means its midnight
        if (!days) {
          return Status::Usage(zone ? "expected a timestamp YYYY-MM-DD HH:MM:SS with an optional zone (Z, +02:00)"
                                    : "expected a timestamp YYYY-MM-DD HH:MM:SS");
        }
        micros = *days * kMicrosPerDay;
      }
      v.text = FormatTimestamp(*micros);
      return v;
    }
    case ParamType::kBool: {
      auto b = ParseBool(text);
      if (!b) return Status::Usage("expected true or false");
      v.integer = *b ? 1 : 0;
      v.text = *b ? "true" : "false";
      return v;
    }
  }
  return Status::Internal("unknown parameter type");
}

ParamType InferParamType(std::string_view text) {
  if (ParseInteger(text)) return ParamType::kBigint;
  if (ParseDecimal(text)) return ParamType::kNumeric;
  if (ParseDate(text)) return ParamType::kDate;
  if (ParseTimestamp(text, false)) return ParamType::kTimestamp;
  if (text == "true" || text == "false") return ParamType::kBool;
  return ParamType::kText;
}

}  // namespace strata
