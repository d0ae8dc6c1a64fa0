#include "synth/pipelined_writer.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace strata::synth {

namespace {

enum class Tag : uint8_t { kNull, kInt, kBool, kText, kCents, kDate, kTimestamp, kTimestampTz, kEndRow };

struct Cell {
  Tag tag;
  int32_t extra;  // kTimestampTz: the offset in minutes; kText: the length
  int64_t value;  // the number; kText: the offset in the batch's text
};

struct Batch {
  std::vector<Cell> cells;
  std::string text;
  size_t rows = 0;
};

constexpr size_t kRowsPerBatch = 4096;
constexpr size_t kBatchesQueued = 4;

class PipelinedWriter : public BulkWriter {
 public:
  explicit PipelinedWriter(std::unique_ptr<BulkWriter> inner) : inner_(std::move(inner)), loader_([this] { Load(); }) {
    batch_ = std::make_unique<Batch>();
  }
  ~PipelinedWriter() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    loader_.join();
  }
  Dialect dialect() const override { return inner_->dialect(); }

  Status Execute(const std::string& sql) override {
    STRATA_RETURN_IF_ERROR(Drain());
    return inner_->Execute(sql);
  }
  Result<int64_t> QueryCount(const std::string& sql) override {
    STRATA_RETURN_IF_ERROR(Drain());
    return inner_->QueryCount(sql);
  }
  Status BeginTable(const std::string& table, const std::vector<std::string>& columns) override {
    STRATA_RETURN_IF_ERROR(Drain());
    return inner_->BeginTable(table, columns);
  }
  void Null() override { Add(Tag::kNull, 0, 0); }
  void Int(int64_t v) override { Add(Tag::kInt, v, 0); }
  void Bool(bool v) override { Add(Tag::kBool, v ? 1 : 0, 0); }
  void Text(std::string_view v) override {
    Add(Tag::kText, static_cast<int64_t>(batch_->text.size()), static_cast<int32_t>(v.size()));
    batch_->text.append(v);
  }
  void Cents(int64_t cents) override { Add(Tag::kCents, cents, 0); }
  void Date(int64_t days) override { Add(Tag::kDate, days, 0); }
  void Timestamp(int64_t micros) override { Add(Tag::kTimestamp, micros, 0); }
  void TimestampTz(int64_t utc_micros, int offset_minutes) override {
    Add(Tag::kTimestampTz, utc_micros, offset_minutes);
  }
  Status EndRow() override {
    Add(Tag::kEndRow, 0, 0);
    if (++batch_->rows < kRowsPerBatch) return Status::Ok();
    return Send();
  }
  Status EndTable() override {
    STRATA_RETURN_IF_ERROR(Drain());
    return inner_->EndTable();
  }
  Status Commit() override {
    STRATA_RETURN_IF_ERROR(Drain());
    return inner_->Commit();
  }
  void Cancel() override { inner_->Cancel(); }

 private:
  void Add(Tag tag, int64_t value, int32_t extra) { batch_->cells.push_back({tag, extra, value}); }

  // Queues the batch being filled (waiting while the queue is full).
  Status Send() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return queue_.size() < kBatchesQueued || !failed_.ok(); });
    if (!failed_.ok()) return failed_;
    queue_.push_back(std::move(batch_));
    lock.unlock();
    changed_.notify_all();
    batch_ = std::make_unique<Batch>();
    batch_->cells.reserve(kRowsPerBatch * 8);
    return Status::Ok();
  }
  // Sends what is recorded and waits until the loading thread has loaded all of it.
  Status Drain() {
    if (!batch_->cells.empty()) STRATA_RETURN_IF_ERROR(Send());
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return (queue_.empty() && !loading_) || !failed_.ok(); });
    return failed_;
  }
  void Load() {
    while (true) {
      std::unique_ptr<Batch> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] { return !queue_.empty() || stop_; });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
        loading_ = true;
      }
      Status st = Replay(*batch);
      {
        std::lock_guard<std::mutex> lock(mu_);
        loading_ = false;
        if (!st.ok() && failed_.ok()) failed_ = st;
        if (!failed_.ok()) queue_.clear();
      }
      changed_.notify_all();
    }
  }
  Status Replay(const Batch& batch) {
    for (const Cell& c : batch.cells) {
      switch (c.tag) {
        case Tag::kNull: inner_->Null(); break;
        case Tag::kInt: inner_->Int(c.value); break;
        case Tag::kBool: inner_->Bool(c.value != 0); break;
        case Tag::kText:
          inner_->Text(std::string_view(batch.text).substr(static_cast<size_t>(c.value), static_cast<size_t>(c.extra)));
          break;
        case Tag::kCents: inner_->Cents(c.value); break;
        case Tag::kDate: inner_->Date(c.value); break;
        case Tag::kTimestamp: inner_->Timestamp(c.value); break;
        case Tag::kTimestampTz: inner_->TimestampTz(c.value, c.extra); break;
        case Tag::kEndRow: STRATA_RETURN_IF_ERROR(inner_->EndRow()); break;
      }
    }
    return Status::Ok();
  }

  std::unique_ptr<BulkWriter> inner_;
  std::unique_ptr<Batch> batch_;  // being filled by the caller's thread
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Batch>> queue_;
  bool loading_ = false;
  bool stop_ = false;
  Status failed_;
  std::thread loader_;  // last: started once the rest is built
};

}  // namespace

std::unique_ptr<BulkWriter> PipelineWriter(std::unique_ptr<BulkWriter> inner) {
  return std::make_unique<PipelinedWriter>(std::move(inner));
}

}  // namespace strata::synth
