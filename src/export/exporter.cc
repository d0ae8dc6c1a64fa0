#include "export/exporter.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace strata::exporting {

namespace {

// Hands batches between the reading and the writing thread: `free` ones go to the reader, `full`
// ones to the writer. Either side can stop the exchange; the other then sees it at its next wait.
class Exchange {
 public:
  explicit Exchange(std::vector<Batch>* batches) {
    for (Batch& b : *batches) free_.push_back(&b);
  }

  // Reader: the next batch to fill, or nullptr when the writer stopped.
  Batch* TakeFree() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || !free_.empty(); });
    if (stopped_) return nullptr;
    Batch* b = free_.front();
    free_.pop_front();
    return b;
  }
  // Reader: a filled batch (an empty one marks the end).
  void PutFull(Batch* b) {
    std::lock_guard<std::mutex> lock(mu_);
    full_.push_back(b);
    cv_.notify_all();
  }
  // Reader: the query failed.
  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(s);
    cv_.notify_all();
  }
  // Writer: the next filled batch, or nullptr with *error set when the reader failed.
  Batch* TakeFull(Status* error) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !error_.ok() || !full_.empty(); });
    if (!full_.empty()) {
      Batch* b = full_.front();
      full_.pop_front();
      return b;
    }
    *error = error_;
    return nullptr;
  }
  void PutFree(Batch* b) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(b);
    cv_.notify_all();
  }
  // Writer: stop reading.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch*> free_, full_;
  Status error_;
  bool stopped_ = false;
};

}  // namespace

Result<ExportResult> RunExport(Source& source, const Query& query, Sink& sink, const Output& out,
                               const ExportOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto cursor = source.Execute(query, options.execute);
  if (!cursor.ok()) return cursor.status();
  std::chrono::steady_clock::duration db_time = std::chrono::steady_clock::now() - start;
  ExportResult result;
  result.columns = (*cursor)->columns();
  STRATA_RETURN_IF_ERROR(sink.Begin(result.columns));

  std::vector<Batch> batches(std::max<size_t>(options.batches_in_flight, 2));
  Exchange exchange(&batches);
  Cursor* rows = cursor->get();
  std::thread reader([&] {
    for (;;) {
      Batch* b = exchange.TakeFree();
      if (b == nullptr) return;
      const auto asked = std::chrono::steady_clock::now();
      Status s = rows->Next(b);
      db_time += std::chrono::steady_clock::now() - asked;
      if (!s.ok()) {
        exchange.Fail(std::move(s));
        return;
      }
      const bool end = b->empty();
      exchange.PutFull(b);
      if (end) return;
    }
  });

  Status status;
  for (;;) {
    Batch* b = exchange.TakeFull(&status);
    if (b == nullptr) break;  // the reader failed: status says why
    if (b->empty()) break;
    status = sink.Write(*b);
    exchange.PutFree(b);
    if (!status.ok()) {
      exchange.Stop();
      source.Cancel();
      break;
    }
    if (options.on_progress) {
      options.on_progress(Progress{sink.rows(), out.bytes_written(), std::chrono::steady_clock::now() - start});
    }
  }
  reader.join();
  cursor->reset();  // ends the read-only transaction
  if (!status.ok()) return status;
  STRATA_RETURN_IF_ERROR(sink.Finish());
  result.rows = sink.rows();
  result.bytes = out.bytes_written();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.db_seconds = std::chrono::duration<double>(db_time).count();
  result.warnings = sink.warnings();
  if (options.on_progress) {
    options.on_progress(Progress{result.rows, result.bytes, std::chrono::steady_clock::now() - start});
  }
  return result;
}

}  // namespace strata::exporting
