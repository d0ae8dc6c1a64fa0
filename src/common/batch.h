// Batch: a block of rows moving from a source to a sink.
//
// Rows are stored row-major as Values; text-like payloads are appended to one arena so that a batch
// costs two allocations however many cells it holds, and a batch is reused after Clear(). A batch
// belongs to one thread at a time: the export pipeline hands it from the reading thread to the
// writing thread and back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/value.h"

namespace strata {

class Batch {
 public:
  explicit Batch(size_t columns = 0) : columns_(columns) {}

  size_t columns() const { return columns_; }
  size_t rows() const { return columns_ == 0 ? 0 : values_.size() / columns_; }
  bool empty() const { return values_.empty(); }
  // Bytes held in the arena: a producer ends a batch early when this grows large.
  size_t arena_bytes() const { return arena_.size(); }

  // Forgets the rows but keeps the memory. Sets the column count for the next rows.
  void Clear(size_t columns) {
    columns_ = columns;
    values_.clear();
    arena_.clear();
  }

  // Appends one cell; rows are complete after columns() appends.
  void AddNull() { values_.emplace_back(); }
  void AddBool(bool b) { Add(Type::kBool).b = b; }
  void AddInt64(int64_t i) { Add(Type::kInt64).i = i; }
  void AddDouble(double d) { Add(Type::kDouble).d = d; }
  void AddDate(int64_t days) { Add(Type::kDate).i = days; }
  void AddTimestamp(int64_t micros, bool utc) { Add(utc ? Type::kTimestampTz : Type::kTimestamp).i = micros; }
  // kNumeric, kText or kBytes.
  void AddText(Type type, std::string_view bytes) {
    Value& v = Add(type);
    v.offset = arena_.size();
    v.length = static_cast<uint32_t>(bytes.size());
    arena_.append(bytes);
  }

  const Value& at(size_t row, size_t column) const { return values_[row * columns_ + column]; }
  std::string_view Text(const Value& v) const { return {arena_.data() + v.offset, v.length}; }

 private:
  Value& Add(Type type) {
    Value& v = values_.emplace_back();
    v.type = type;
    return v;
  }

  size_t columns_;
  std::vector<Value> values_;
  std::string arena_;
};

}  // namespace strata
