// ByteBuffer: a growable byte array for building XML and CSV on the hot path. Unlike std::string
// it never zero-fills and its appends are one branch and one memcpy.
#pragma once

#include <cstring>
#include <memory>
#include <string_view>

namespace strata {

class ByteBuffer {
 public:
  explicit ByteBuffer(size_t capacity = 1 << 16) : data_(new char[capacity]), capacity_(capacity) {}

  size_t size() const { return size_; }
  const char* data() const { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }

  void Append(const char* p, size_t n) {
    if (size_ + n > capacity_) Grow(n);
    std::memcpy(data_.get() + size_, p, n);
    size_ += n;
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  template <size_t N>
  void AppendLiteral(const char (&s)[N]) {
    Append(s, N - 1);
  }
  void Push(char c) {
    if (size_ == capacity_) Grow(1);
    data_[size_++] = c;
  }
  // Room for n more bytes: write at the returned pointer, then Commit what was written.
  char* Reserve(size_t n) {
    if (size_ + n > capacity_) Grow(n);
    return data_.get() + size_;
  }
  void Commit(size_t n) { size_ += n; }

 private:
  void Grow(size_t n) {
    size_t cap = capacity_ * 2;
    while (cap < size_ + n) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t size_ = 0;
};

}  // namespace strata
