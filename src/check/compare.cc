#include "check/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string_view>

#include "source/source.h"

namespace strata::check {

namespace {

// "+007.500" -> "7.5", "-0.00" -> "0", "12" -> "12". Text that is not a plain decimal is kept.
std::string NormalizeDecimal(std::string_view s) {
  bool negative = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  const size_t int_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  std::string_view integer = s.substr(int_start, i - int_start);
  std::string_view fraction;
  if (i < s.size() && s[i] == '.') {
    const size_t f = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    fraction = s.substr(f, i - f);
  }
  if (i != s.size() || (integer.empty() && fraction.empty())) return std::string(s);  // NaN, 1e30 ...
  while (!integer.empty() && integer.front() == '0') integer.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::string out;
  if (integer.empty() && fraction.empty()) return "0";
  if (negative) out += '-';
  out += integer.empty() ? std::string_view("0") : integer;
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  return out;
}

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == std::trunc(d) && std::fabs(d) < 9007199254740992.0) return std::to_string(static_cast<int64_t>(d));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", d);
  return NormalizeDecimal(buf);  // "0.300000000000" never happens with %g, but "1e+20" stays as it is
}

void Append(std::string* out, char tag, std::string_view bytes) {
  out->push_back(tag);
  out->append(std::to_string(bytes.size()));
  out->push_back(':');
  out->append(bytes);
}

}  // namespace

std::string CanonicalCell(const Batch& batch, const Value& v) {
  std::string out;
  switch (v.type) {
    case Type::kNull: out.push_back('0'); break;
    case Type::kBool: Append(&out, 'b', v.b ? "t" : "f"); break;
    case Type::kInt64: Append(&out, 'n', std::to_string(v.i)); break;
    case Type::kDouble: Append(&out, 'n', DoubleText(v.d)); break;
    case Type::kNumeric: {
      Append(&out, 'n', NormalizeDecimal(batch.Text(v)));  // exact: compared digit for digit
      break;
    }
    case Type::kText: Append(&out, 's', batch.Text(v)); break;
    case Type::kBytes: Append(&out, 'x', batch.Text(v)); break;
    case Type::kDate: Append(&out, 'd', std::to_string(v.i)); break;
    case Type::kTimestamp: Append(&out, 't', std::to_string(v.i)); break;
    case Type::kTimestampTz: Append(&out, 'z', std::to_string(v.i)); break;
  }
  return out;
}

uint64_t RowHash(const Batch& batch, size_t row, std::string* scratch) {
  scratch->clear();
  for (size_t c = 0; c < batch.columns(); ++c) scratch->append(CanonicalCell(batch, batch.at(row, c)));
  return std::hash<std::string_view>{}(*scratch);
}

void ResultDigest::Add(const Batch& batch) {
  for (size_t r = 0; r < batch.rows(); ++r) hashes_.push_back(RowHash(batch, r, &scratch_));
}

Comparison Compare(const ResultDigest& base, const ResultDigest& candidate, bool ordered) {
  Comparison out;
  std::vector<uint64_t> a = base.hashes(), b = candidate.hashes();
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) {
      ++out.base_extra[a[i++]];
      ++out.only_in_base;
    } else if (i == a.size() || b[j] < a[i]) {
      ++out.candidate_extra[b[j++]];
      ++out.only_in_candidate;
    } else {
      ++i;
      ++j;
    }
  }
  out.equal = out.only_in_base == 0 && out.only_in_candidate == 0;
  if (out.equal && ordered) {
    const auto& x = base.hashes();
    const auto& y = candidate.hashes();
    for (size_t k = 0; k < x.size(); ++k) {
      if (x[k] != y[k]) {
        out.equal = false;
        out.order_only = true;
        out.first_order_difference = static_cast<int64_t>(k);
        break;
      }
    }
  }
  return out;
}

void RowSample::Add(const Batch& batch) {
  for (size_t r = 0; r < batch.rows() && rows_.size() < limit_; ++r) {
    auto it = wanted_.find(RowHash(batch, r, &scratch_));
    if (it == wanted_.end() || it->second == 0) continue;
    --it->second;
    std::vector<std::string> row;
    for (size_t c = 0; c < batch.columns(); ++c) {
      const Value& v = batch.at(r, c);
      row.push_back(v.type == Type::kNull ? "NULL" : CellText(batch, v));
    }
    rows_.push_back(std::move(row));
  }
}

}  // namespace strata::check
