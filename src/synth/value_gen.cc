#include "synth/value_gen.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/value.h"
#include "synth/random.h"

namespace strata::synth {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return s;
}

uint64_t HashOf(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

bool Covers(const KeptTenant& k, const std::string& where) {
  if (k.range.count(where) != 0) return true;
  for (const auto& [id, n] : k.counts) {
    const size_t colon = id.find(':');
    if (id.compare(colon + 1, where.size(), where) != 0) continue;
    const size_t end = colon + 1 + where.size();
    if (end == id.size() || id[end] == '=') return true;
  }
  return false;
}

namespace {

int64_t Count(const KeptTenant& k, const std::string& id) {
  auto it = k.counts.find(id);
  return it == k.counts.end() ? 0 : it->second;
}

bool IsNumber(ValueKind k) {
  return k == ValueKind::kInteger || k == ValueKind::kDecimal || k == ValueKind::kFloat;
}

constexpr char kLetters[] = "etaoinshrdlucmfwypvbgkjqxz";
constexpr int64_t kPageText = 8192;

// Letters in words of 2 to 9, made once: text values are slices of it.
const std::string& PageOfWords() {
  static const std::string page = [] {
    std::string p;
    Rng r(1, 2, 3);
    while (p.size() < static_cast<size_t>(kPageText) * 2) {
      const int64_t word = r.Range(2, 9);
      for (int64_t k = 0; k < word; ++k) p += kLetters[r.Next() % 26];
      p += ' ';
    }
    return p;
  }();
  return page;
}

double AtQuantile(const std::vector<double>& q, double u) {
  for (int k = 1; k < kQuantileCount; ++k) {
    if (u <= kQuantilePoints[k]) {
      const double span = kQuantilePoints[k] - kQuantilePoints[k - 1];
      return q[k - 1] + (span > 0 ? (u - kQuantilePoints[k - 1]) / span : 0) * (q[k] - q[k - 1]);
    }
  }
  return q.back();
}

}  // namespace

ColumnGen::ColumnGen(const Profile& profile, const TableProfile& table, const ColumnProfile& column, Dialect target,
                     uint64_t seed, bool unique, int64_t table_rows)
    : c_(column),
      table_(Lower(table.name)),
      target_(target),
      seed_(seed),
      what_(HashOf(table.name + "." + column.name)),
      unique_(unique) {
  const std::string where = table_ + "." + c_.name;
  int64_t rows = table.rows, nulls = c_.nulls, negatives = c_.negatives, zeros = c_.zeros;
  std::vector<int64_t> value_rows;
  for (const ValueCount& v : c_.values) value_rows.push_back(v.rows);
  for (const KeptTenant& k : profile.tenants) {
    auto r = k.rows.find(table.name);
    if (r == k.rows.end() || !Covers(k, where)) continue;  // a tenant typical here draws with the rest
    rows -= r->second;
    nulls -= Count(k, "null:" + where);
    negatives -= Count(k, "negative:" + where);
    zeros -= Count(k, "zero:" + where);
    for (size_t i = 0; i < c_.values.size(); ++i)
      value_rows[i] -= Count(k, "value:" + where + "=" + c_.values[i].value);
  }
  const double residual = static_cast<double>(std::max<int64_t>(rows, 1));
  null_p_ = std::clamp(static_cast<double>(nulls) / residual, 0.0, 1.0);
  const double present = std::max(1.0, residual - static_cast<double>(std::max<int64_t>(nulls, 0)));
  negative_p_ = std::clamp(static_cast<double>(negatives) / present, 0.0, 1.0);
  zero_p_ = std::clamp(static_cast<double>(zeros) / present, 0.0, 1.0 - negative_p_);
  double total = 0;
  for (int64_t& v : value_rows) total += static_cast<double>(v = std::max<int64_t>(v, 0));
  if (total <= 0) {  // the kept tenants hold every value: the rest draw from the column as a whole
    total = 0;
    for (size_t i = 0; i < c_.values.size(); ++i) total += static_cast<double>(value_rows[i] = c_.values[i].rows);
  }
  double sum = 0;
  for (int64_t v : value_rows) value_cdf_.push_back((sum += static_cast<double>(v)) / std::max(total, 1.0));
  unique_ = unique_ || c_.near_unique;
  rows_ = static_cast<double>(std::max<int64_t>(table_rows, 1));
  ordered_ = c_.correlation >= 0.5 ? 1 : c_.correlation <= -0.5 ? -1 : 0;
  if (c_.has_typical_range) {
    typical_lo_ = Cdf(c_.typical_min);
    typical_hi_ = std::max(typical_lo_, Cdf(c_.typical_max));
  }
  if (c_.kind == ValueKind::kEnum && c_.values.empty()) {
    for (const EnumProfile& e : profile.enums) {
      if (c_.type == e.name || c_.type == e.schema + "." + e.name) labels_ = e.labels;
    }
  }
}

ColumnQuota ColumnGen::QuotaFor(const KeptTenant& k) const {
  const std::string where = table_ + "." + c_.name;
  ColumnQuota q;
  q.covered = Covers(k, where);
  q.nulls = Count(k, "null:" + where);
  q.negatives = Count(k, "negative:" + where);
  q.zeros = Count(k, "zero:" + where);
  for (size_t i = 0; i < c_.values.size(); ++i) {
    const int64_t n = Count(k, "value:" + where + "=" + c_.values[i].value);
    if (n > 0) q.values.push_back({i, n});
  }
  q.duplicates = Count(k, "duplicate:" + where);
  q.per_value = std::max<int64_t>(2, Count(k, "fanout:" + where));
  q.salt = HashOf(k.tenant);
  auto r = k.range.find(where);
  if (r != k.range.end()) {
    q.has_range = true;
    q.min = r->second.first;
    q.max = r->second.second;
  }
  return q;
}

double ColumnGen::Quantile(double u) const {
  if (c_.quantiles.size() != static_cast<size_t>(kQuantileCount)) return u * 1000;
  return AtQuantile(c_.quantiles, u);
}

// The highest rank whose value is at most x (Cdf gives the lowest): the ranks of many equal values,
// zeros say, lie between the two.
double ColumnGen::CdfAbove(double x) const {
  const std::vector<double>& q = c_.quantiles;
  if (q.size() != static_cast<size_t>(kQuantileCount)) return 0;
  for (int k = kQuantileCount - 1; k >= 0; --k) {
    if (q[k] <= x) {
      if (k == kQuantileCount - 1) return 1;
      const double span = q[k + 1] - q[k];
      const double f = span > 0 ? (x - q[k]) / span : 0;
      return kQuantilePoints[k] + f * (kQuantilePoints[k + 1] - kQuantilePoints[k]);
    }
  }
  return 0;
}

double ColumnGen::Cdf(double x) const {
  const std::vector<double>& q = c_.quantiles;
  if (q.size() != static_cast<size_t>(kQuantileCount) || x <= q.front()) return 0;
  for (int k = 1; k < kQuantileCount; ++k) {
    if (x <= q[k]) {
      const double span = q[k] - q[k - 1];
      const double f = span > 0 ? (x - q[k - 1]) / span : 1;
      return kQuantilePoints[k - 1] + f * (kQuantilePoints[k] - kQuantilePoints[k - 1]);
    }
  }
  return 1;
}

void ColumnGen::Write(BulkWriter* out, uint64_t row, const ColumnQuota* quota, int64_t slot, int64_t tenant_rows) {
  Rng r(seed_, what_, row);
  if (quota == nullptr) {
    if (r.Chance(null_p_)) return out->Null();
    if (!c_.values.empty()) {
      const double u = r.Unit();
      return WriteValue(
          out, static_cast<size_t>(std::lower_bound(value_cdf_.begin(), value_cdf_.end(), u) - value_cdf_.begin()));
    }
    const double u = r.Unit();
    Region region = Region::kAny;
    if (IsNumber(c_.kind))
      region = u < negative_p_ ? Region::kNegative : u < negative_p_ + zero_p_ ? Region::kZero : Region::kNonNegative;
    // A column that follows the physical order (an id, a creation time) draws at the row's position.
    const double at = ordered_ == 0 ? r.Unit() : (static_cast<double>(row) + r.Unit()) / rows_;
    return WriteDrawn(out, row, ordered_ < 0 ? 1 - at : at, region, nullptr, 0);
  }
  // A kept tenant: its rows by rank, rotated per column.
  int64_t s =
      tenant_rows > 0
          ? static_cast<int64_t>((static_cast<uint64_t>(slot) + what_ % 1000003) % static_cast<uint64_t>(tenant_rows))
          : 0;
  if (s < quota->nulls) return out->Null();
  s -= quota->nulls;
  if (unique_ && quota->duplicates > 0) {
    // Groups of per_value rows share a value, until they hold the tenant's duplicates.
    const int64_t in_groups = quota->duplicates + (quota->duplicates + quota->per_value - 2) / (quota->per_value - 1);
    if (s < in_groups) {
      const uint64_t shared =
          (1ull << 40) + (quota->salt % (1ull << 20)) * (1ull << 20) + static_cast<uint64_t>(s / quota->per_value);
      return WriteDrawn(out, shared, Rng(seed_, what_, shared).Unit(), Region::kAny, nullptr, 0);
    }
  }
  for (const auto& [index, n] : quota->values) {
    if (s < n) return WriteValue(out, index);
    s -= n;
  }
  if (!c_.values.empty() && !quota->values.empty()) {
    // The tenant's values are all counted: rows beyond them (rounding) take its most common value.
    return WriteValue(out, quota->values.front().first);
  }
  if (!c_.values.empty()) {
    const double u = r.Unit();
    return WriteValue(
        out, static_cast<size_t>(std::lower_bound(value_cdf_.begin(), value_cdf_.end(), u) - value_cdf_.begin()));
  }
  Region region = Region::kAny;
  if (IsNumber(c_.kind))
    region = s < quota->negatives                  ? Region::kNegative
             : s < quota->negatives + quota->zeros ? Region::kZero
                                                   : Region::kNonNegative;
  // The tenant's extremes on its first and last non-NULL rows (by rotated rank).
  const int extreme = s == 0 ? -1 : s == tenant_rows - quota->nulls - 1 ? 1 : 0;
  WriteDrawn(out, row, r.Unit(), region, quota, extreme);
}

void ColumnGen::WriteValue(BulkWriter* out, size_t index) {
  if (index >= c_.values.size()) index = c_.values.size() - 1;
  const std::string& v = c_.values[index].value;
  if (c_.kind == ValueKind::kBool) return out->Bool(v == "true" || v == "t" || v == "1");
  out->Text(v);
}

void ColumnGen::WriteNumber(BulkWriter* out, double v) {
  switch (c_.kind) {
    // Within what each conversion can hold (a bigint's largest value is 2^63 - 1, not the 2^63 a
    // double rounds it to; timestamps within PostgreSQL's years 4713 BC to 294276 AD).
    case ValueKind::kInteger: return out->Int(static_cast<int64_t>(std::llround(std::clamp(v, -9.2e18, 9.2e18))));
    case ValueKind::kDate: return out->Date(static_cast<int64_t>(std::floor(std::clamp(v, -2.5e6, 1e8))));
    case ValueKind::kTimestamp:
      return out->Timestamp(static_cast<int64_t>(std::floor(std::clamp(v, -2.1e11, 9.2e12))) * kMicrosPerSecond);
    case ValueKind::kTimestampTz:
      return out->TimestampTz(static_cast<int64_t>(std::floor(std::clamp(v, -2.1e11, 9.2e12))) * kMicrosPerSecond, 0);
    default: break;
  }
  char b[400];  // a fixed-notation double needs at most 309 digits before the point
  const auto end = c_.kind == ValueKind::kDecimal
                       ? std::to_chars(b, b + sizeof b, v, std::chars_format::fixed, c_.scale >= 0 ? c_.scale : 2)
                       : std::to_chars(b, b + sizeof b, v, std::chars_format::general, 9);
  out->Text(std::string_view(b, static_cast<size_t>(end.ptr - b)));
}

void ColumnGen::WriteDrawn(BulkWriter* out, uint64_t row, double u, Region region, const ColumnQuota* quota,
                           int extreme) {
  switch (c_.kind) {
    case ValueKind::kInteger:
    case ValueKind::kDecimal:
    case ValueKind::kFloat:
    case ValueKind::kDate:
    case ValueKind::kTimestamp:
    case ValueKind::kTimestampTz: {
      if (unique_ && c_.kind == ValueKind::kInteger) return out->Int(static_cast<int64_t>(row) + 1);
      if (region == Region::kZero) return WriteNumber(out, 0);
      const double below = Cdf(-1e-9), above = CdfAbove(0);
      double v;
      // A typical tenant draws between the typical tenants' extremes, a kept one anywhere.
      const double lo = quota == nullptr ? typical_lo_ : 0, hi = quota == nullptr ? typical_hi_ : 1;
      if (region == Region::kNegative) {
        v = below > 0 ? Quantile(u * below) : -std::max(1.0, std::fabs(Quantile(u)));
      } else if (region == Region::kNonNegative && (below > 0 || zero_p_ > 0 || (quota && quota->zeros > 0))) {
        const double start = std::max(above, lo);
        v = std::max(Quantile(start + u * (std::max(hi, start) - start)), c_.kind == ValueKind::kInteger ? 1.0 : 0.01);
      } else {
        v = Quantile(lo + u * (hi - lo));
      }
      if (quota != nullptr && quota->has_range) {
        v = extreme < 0 ? quota->min : extreme > 0 ? quota->max : std::clamp(v, quota->min, quota->max);
      }
      return WriteNumber(out, v);
    }
    case ValueKind::kBool: return out->Bool(u < 0.5);
    case ValueKind::kEnum:
      if (labels_.empty()) return out->Null();
      return out->Text(labels_[static_cast<size_t>(u * static_cast<double>(labels_.size())) % labels_.size()]);
    case ValueKind::kUuid: {
      Rng r(seed_, what_ ^ 0x5555, row);
      const uint64_t a = r.Next(), b = r.Next();
      char s[40];
      std::snprintf(s, sizeof s, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                    static_cast<unsigned>(a >> 16 & 0xffff), static_cast<unsigned>(a & 0xfff),
                    static_cast<unsigned>(0x8000 | (b >> 48 & 0x3fff)),
                    static_cast<unsigned long long>(b & 0xffffffffffffull));
      return out->Text(s);
    }
    case ValueKind::kText: return WriteText(out, row, u);
    case ValueKind::kJson: {
      WriteText(nullptr, row, u);
      return out->Text("{\"v\": \"" + buf_ + "\"}");
    }
    case ValueKind::kArray: return out->Text(target_ == Dialect::kPostgres ? "{}" : "[]");
    case ValueKind::kBytes: return target_ == Dialect::kPostgres ? out->Text("\\x") : out->Text("");
    default: return out->Null();
  }
}

// Text of the profiled length (at most char(n)/varchar(n)'s n): a slice of a page of pseudo-words,
// with the row's number in front when the column is unique.
void ColumnGen::WriteText(BulkWriter* out, uint64_t row, double u) {
  int64_t length =
      c_.lengths.size() == static_cast<size_t>(kQuantileCount) ? std::llround(AtQuantile(c_.lengths, u)) : 8;
  if (c_.max_length > 0) length = std::min<int64_t>(length, c_.max_length);
  length = std::clamp<int64_t>(length, 0, kPageText - 1);
  buf_.clear();
  if (unique_) {
    char b[24];
    buf_.assign(b, static_cast<size_t>(std::to_chars(b, b + 24, row + 1, 36).ptr - b));
    buf_ += '-';
  }
  if (static_cast<int64_t>(buf_.size()) < length) {
    const std::string& page = PageOfWords();
    const size_t want = static_cast<size_t>(length) - buf_.size();
    const size_t at = Rng(seed_, what_ ^ 0xabcdef, row).Next() % (page.size() - want);
    buf_.append(page, at, want);
  }
  if (out != nullptr) out->Text(buf_);
}

}  // namespace strata::synth
