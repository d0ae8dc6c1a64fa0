// Comparing two versions' results: rows as multisets (or as sequences when both versions order
// their rows with a top-level ORDER BY), in memory proportional to the row count (8 bytes a row),
// not to the rows' size.
//
// A row is reduced to a 64-bit hash of its canonical form. Canonical cells compare values, not
// spellings: 5, 5.0 (double) and 5.00 (numeric) are equal; numerics lose trailing zeros
// ("34598.70" = "34598.7") but are otherwise exact; doubles are rounded to 12 significant digits,
// so sums that differ only by floating-point rounding (another order of addition) are equal (two
// values either side of a rounding boundary are the rare exception). Text, dates, timestamps,
// booleans, bytes and NULL compare exactly, and a number never equals text.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/batch.h"

namespace strata::check {

// The canonical form of one cell (type class + value), as hashed.
std::string CanonicalCell(const Batch& batch, const Value& value);

// The rows of one run, as hashes in the order they came.
class ResultDigest {
 public:
  void Add(const Batch& batch);
  const std::vector<uint64_t>& hashes() const { return hashes_; }
  int64_t rows() const { return static_cast<int64_t>(hashes_.size()); }

 private:
  std::vector<uint64_t> hashes_;
  std::string scratch_;
};

uint64_t RowHash(const Batch& batch, size_t row, std::string* scratch);

struct Comparison {
  bool equal = true;
  bool order_only = false;              // the same multiset, another order (ordered comparison)
  int64_t first_order_difference = -1;  // 0-based index of the first row out of order
  int64_t only_in_base = 0;             // rows (with multiplicity) of base not in candidate
  int64_t only_in_candidate = 0;
  // Hashes of the rows only in one side, with how many of each, to find them again.
  std::unordered_map<uint64_t, int64_t> base_extra;
  std::unordered_map<uint64_t, int64_t> candidate_extra;
};

// ordered: compare as sequences (both versions have a top-level ORDER BY).
Comparison Compare(const ResultDigest& base, const ResultDigest& candidate, bool ordered);

// Keeps the display text of the first `limit` rows whose hash is wanted (each wanted hash as many
// times as its count): the rows a person is shown for a difference.
class RowSample {
 public:
  RowSample(std::unordered_map<uint64_t, int64_t> wanted, size_t limit) : wanted_(std::move(wanted)), limit_(limit) {}
  void Add(const Batch& batch);
  std::vector<std::vector<std::string>> TakeRows() { return std::move(rows_); }
  // The result's column names, set by whoever runs the query.
  void SetColumns(std::vector<std::string> names) { columns_ = std::move(names); }
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::unordered_map<uint64_t, int64_t> wanted_;
  size_t limit_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::string> columns_;
  std::string scratch_;
};

}  // namespace strata::check
