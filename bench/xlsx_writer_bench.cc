// The writer alone: N rows x 10 mixed columns, generated in-process exactly as bench/peers/ do,
// written through Strata's xlsx (or csv) sink to a file. Prints one JSON line like the peers.
//
//   xlsx_writer_bench OUT.xlsx [N] [compression 0-3]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/batch.h"
#include "common/value.h"
#include "sink/output.h"
#include "sink/sink.h"

using namespace strata;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.xlsx|OUT.csv [N] [compression]\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const long n = argc > 2 ? std::atol(argv[2]) : 1000000;
  SinkOptions options;
  options.format = FormatFromPath(path).ok() ? FormatFromPath(path).value() : Format::kXlsx;
  options.xlsx.compression = argc > 3 ? std::atoi(argv[3]) : 1;

  const auto start = std::chrono::steady_clock::now();
  auto out = FileOutput::Open(path);
  if (!out.ok()) return std::fprintf(stderr, "%s\n", out.status().message().c_str()), 1;
  auto sink = MakeSink(options, out->get());
  const std::vector<Column> columns = {
      {"id", Type::kInt64},     {"name", Type::kText},    {"qty", Type::kInt64},         {"price", Type::kNumeric},
      {"ratio", Type::kDouble}, {"created", Type::kDate}, {"updated", Type::kTimestamp}, {"active", Type::kBool},
      {"big", Type::kInt64},    {"note", Type::kText}};
  Status s = sink->Begin(columns);
  const int64_t epoch2020 = DaysFromCivil(2020, 1, 1);
  Batch batch(columns.size());
  char text[128];
  for (long i = 0; i < n && s.ok();) {
    batch.Clear(columns.size());
    for (int r = 0; r < 4096 && i < n; ++r, ++i) {
      batch.AddInt64(i + 1);
      batch.AddText(
          Type::kText,
          std::string_view(text, static_cast<size_t>(std::snprintf(text, sizeof text, "member-%ld 김민준 café", i))));
      batch.AddInt64((i * 7919) % 1000);
      const long cents = (i * 104729) % 1000000;
      batch.AddText(Type::kNumeric,
                    std::string_view(text, static_cast<size_t>(std::snprintf(text, sizeof text, "%ld.%02ld",
                                                                             cents / 100, cents % 100))));
      batch.AddDouble(static_cast<double>(i % 1000) / 7.0);
      batch.AddDate(epoch2020 + i % 2000);
      batch.AddTimestamp(epoch2020 * kMicrosPerDay + ((i * 37) % 157680000) * kMicrosPerSecond, false);
      batch.AddBool(i % 3 == 0);
      batch.AddInt64(i * 1000003);
      batch.AddText(
          Type::kText,
          std::string_view(text, static_cast<size_t>(std::snprintf(text, sizeof text, "order #%ld <ok> & done", i))));
    }
    s = sink->Write(batch);
  }
  if (s.ok()) s = sink->Finish();
  if (s.ok()) s = (*out)->Commit();
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "{\"peer\": \"strata\", \"rows\": %ld, \"seconds\": %.6f, \"rows_per_s\": %.1f, \"bytes\": %llu, "
      "\"peak_rss_kib\": %ld, \"compression\": %d}\n",
      n, secs, static_cast<double>(n) / secs, static_cast<unsigned long long>((*out)->bytes_written()), ru.ru_maxrss,
      options.xlsx.compression);
  return 0;
}
