#include "export/exporter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sink/csv_writer.h"

namespace strata::exporting {
namespace {

// A source whose rows are numbers 0..rows-1, failing (or hanging until cancelled) after fail_after
// batches: fault injection for the pipeline.
class FakeSource : public Source {
 public:
  FakeSource(int rows, int fail_after, bool hang = false) : rows_(rows), fail_after_(fail_after), hang_(hang) {}

  class FakeCursor : public Cursor {
   public:
    explicit FakeCursor(FakeSource* s) : s_(s) {}
    const std::vector<Column>& columns() const override { return cols_; }
    Status Next(Batch* b) override {
      b->Clear(1);
      if (s_->cancelled_) return Status::Cancelled("cancelled");
      if (batches_++ == s_->fail_after_) {
        if (!s_->hang_) return Status::Database("the connection was lost");
        while (!s_->cancelled_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Status::Cancelled("cancelled");
      }
      for (int k = 0; k < 10 && next_ < s_->rows_; ++k) b->AddInt64(next_++);
      return Status::Ok();
    }
    ~FakeCursor() override { s_->open_cursors_--; }

   private:
    FakeSource* s_;
    std::vector<Column> cols_{{"n", Type::kInt64}};
    int batches_ = 0;
    int next_ = 0;
  };

  Dialect dialect() const override { return Dialect::kSqlite; }
  Result<std::string> Explain(const Query&, const ExplainOptions&) override { return std::string(); }
  Status Analyze(const std::vector<std::string>&) override { return Status::Ok(); }
  Result<std::unique_ptr<Cursor>> Execute(const Query&, const ExecuteOptions&) override {
    open_cursors_++;
    return std::unique_ptr<Cursor>(new FakeCursor(this));
  }
  void Cancel() override { cancelled_ = true; }
  const std::string& description() const override { return description_; }

  std::atomic<int> open_cursors_{0};
  std::atomic<bool> cancelled_{false};

 private:
  int rows_, fail_after_;
  bool hang_;
  std::string description_ = "fake";
};

class FailingOutput : public Output {
 public:
  explicit FailingOutput(int fail_at) : fail_at_(fail_at) {}
  Status Write(std::string_view bytes) override {
    if (++writes_ == fail_at_) return Status::Io("disk full");
    data_.append(bytes);
    return Status::Ok();
  }
  uint64_t bytes_written() const override { return data_.size(); }
  std::string data_;

 private:
  int fail_at_;
  int writes_ = 0;
};

TEST(ExporterTest, WritesEveryRowInOrder) {
  FakeSource source(1000, -1);
  StringOutput out;
  CsvWriter sink({}, &out);
  int progress_calls = 0;
  ExportOptions o;
  o.on_progress = [&](const Progress&) { ++progress_calls; };
  auto r = RunExport(source, Query{}, sink, out, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, 1000u);
  std::string expected = "n\r\n";
  for (int k = 0; k < 1000; ++k) expected += std::to_string(k) + "\r\n";
  EXPECT_EQ(out.data(), expected);
  EXPECT_GT(progress_calls, 10);
  EXPECT_EQ(source.open_cursors_, 0);
}

TEST(ExporterTest, ASourceFailingAtAnyBatchFailsTheExport) {
  // 100 rows are 10 batches and the empty one that ends them: fail in place of each.
  for (int n = 0; n <= 10; ++n) {
    FakeSource source(100, n);
    StringOutput out;
    CsvWriter sink({}, &out);
    auto r = RunExport(source, Query{}, sink, out, {});
    ASSERT_FALSE(r.ok()) << "failure at batch " << n << " was lost";
    EXPECT_EQ(r.status().code(), Status::Code::kDatabase);
    EXPECT_EQ(source.open_cursors_, 0);
  }
}

TEST(ExporterTest, AnOutputFailingAtAnyWriteCancelsTheQuery) {
  for (int n = 1; n <= 3; ++n) {
    FakeSource source(200000, -1);
    FailingOutput out(n);
    CsvWriter sink({}, &out);
    auto r = RunExport(source, Query{}, sink, out, {});
    ASSERT_FALSE(r.ok()) << "write " << n;
    EXPECT_EQ(r.status().code(), Status::Code::kIo);
    EXPECT_TRUE(source.cancelled_) << "the query was left running after the output failed";
    EXPECT_EQ(source.open_cursors_, 0);
  }
}

TEST(ExporterTest, CancelStopsAHangingQuery) {
  FakeSource source(100, 3, /*hang=*/true);
  StringOutput out;
  CsvWriter sink({}, &out);
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.Cancel();
  });
  auto r = RunExport(source, Query{}, sink, out, {});
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCancelled);
}

}  // namespace
}  // namespace strata::exporting
