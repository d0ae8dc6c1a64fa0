#include "server/metrics_text.h"

#include <cstdio>

namespace strata::server {

namespace {

std::string Number(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.10g", v);
  return text;
}

// A label value: backslash, double quote and newline escaped, as the format requires.
std::string Label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string MetricsText(const jobs::QueueCounts& counts,
                        const std::map<std::string, jobs::RunMetrics::PerReport>& reports) {
  std::string out;
  out += "# HELP strata_jobs Export jobs in the job store by state (every process sharing it).\n";
  out += "# TYPE strata_jobs gauge\n";
  const std::pair<const char*, int64_t> states[] = {{"queued", counts.queued},
                                                    {"running", counts.running},
                                                    {"done", counts.done},
                                                    {"failed", counts.failed},
                                                    {"cancelled", counts.cancelled}};
  for (const auto& [state, n] : states) {
    out += std::string("strata_jobs{state=\"") + state + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP strata_export_duration_seconds Duration of the exports this process finished.\n";
  out += "# TYPE strata_export_duration_seconds histogram\n";
  for (const auto& [report, r] : reports) {
    const std::string l = "report=\"" + Label(report) + "\"";
    for (size_t k = 0; k < jobs::RunMetrics::kBuckets.size(); ++k) {
      out += "strata_export_duration_seconds_bucket{" + l + ",le=\"" + Number(jobs::RunMetrics::kBuckets[k]) + "\"} " +
             std::to_string(r.buckets[k]) + "\n";
    }
    out += "strata_export_duration_seconds_bucket{" + l + ",le=\"+Inf\"} " + std::to_string(r.runs) + "\n";
    out += "strata_export_duration_seconds_sum{" + l + "} " + Number(r.seconds) + "\n";
    out += "strata_export_duration_seconds_count{" + l + "} " + std::to_string(r.runs) + "\n";
  }
  struct Counter {
    const char* name;
    const char* help;
    const char* type;
    double (*get)(const jobs::RunMetrics::PerReport&);
  };
  const Counter counters[] = {
      {"strata_export_rows_total", "Rows written by finished exports.", "counter",
       [](const jobs::RunMetrics::PerReport& r) { return static_cast<double>(r.rows); }},
      {"strata_export_bytes_total", "Bytes of the files of finished exports.", "counter",
       [](const jobs::RunMetrics::PerReport& r) { return static_cast<double>(r.bytes); }},
      {"strata_export_failures_total", "Exports that failed for good.", "counter",
       [](const jobs::RunMetrics::PerReport& r) { return static_cast<double>(r.failures); }},
      {"strata_export_retries_total", "Attempts that failed and were queued again.", "counter",
       [](const jobs::RunMetrics::PerReport& r) { return static_cast<double>(r.retries); }},
      {"strata_export_cancelled_total", "Exports cancelled while running.", "counter",
       [](const jobs::RunMetrics::PerReport& r) { return static_cast<double>(r.cancelled); }},
      {"strata_export_rows_per_second", "Rows per second of the last finished export.", "gauge",
       [](const jobs::RunMetrics::PerReport& r) { return r.last_rows_per_second; }},
  };
  for (const Counter& c : counters) {
    out += std::string("# HELP ") + c.name + " " + c.help + "\n# TYPE " + c.name + " " + c.type + "\n";
    for (const auto& [report, r] : reports) {
      out += std::string(c.name) + "{report=\"" + Label(report) + "\"} " + Number(c.get(r)) + "\n";
    }
  }
  return out;
}

std::string LimitMetricsText(int limit, double pressure) {
  return "# HELP strata_export_limit Exports this process lets run at once now (lowered while the database is "
         "slow).\n# TYPE strata_export_limit gauge\nstrata_export_limit " +
         std::to_string(limit) +
         "\n# HELP strata_database_latency_ratio Exports' database time against their usual, moving average.\n"
         "# TYPE strata_database_latency_ratio gauge\nstrata_database_latency_ratio " +
         Number(pressure) + "\n";
}

std::string WatchMetricsText(const watch::WatchCounts& counts, int64_t active_fallbacks, int64_t regressed) {
  std::string out;
  out += "# HELP strata_watch_fallbacks_active Report and tenant pairs running the last good version now.\n";
  out += "# TYPE strata_watch_fallbacks_active gauge\n";
  out += "strata_watch_fallbacks_active " + std::to_string(active_fallbacks) + "\n";
  out += "# HELP strata_watch_regressed_active Report and tenant pairs alerted as regressed (mode alert) now.\n";
  out += "# TYPE strata_watch_regressed_active gauge\n";
  out += "strata_watch_regressed_active " + std::to_string(regressed) + "\n";
  const std::pair<const char*, uint64_t> counters[] = {{"runs", counts.runs},
                                                       {"regressions", counts.regressions},
                                                       {"fallbacks", counts.fallbacks},
                                                       {"record_errors", counts.record_errors}};
  for (const auto& [name, n] : counters) {
    out += std::string("# HELP strata_watch_") + name + "_total What the watch did in this process: " + name +
           ".\n# TYPE strata_watch_" + name + "_total counter\nstrata_watch_" + name + "_total " + std::to_string(n) +
           "\n";
  }
  out += "# HELP strata_watch_seconds_total Time the watch spent choosing versions and recording and judging runs.\n"
         "# TYPE strata_watch_seconds_total counter\nstrata_watch_seconds_total " +
         Number(counts.seconds) + "\n";
  out += "# HELP strata_watch_verifications_total How fallbacks ended their verification in this process.\n";
  out += "# TYPE strata_watch_verifications_total counter\n";
  out += "strata_watch_verifications_total{outcome=\"verified\"} " + std::to_string(counts.verified) + "\n";
  out += "strata_watch_verifications_total{outcome=\"reverted\"} " + std::to_string(counts.reverted) + "\n";
  out += "strata_watch_verifications_total{outcome=\"released\"} " + std::to_string(counts.released) + "\n";
  return out;
}

}  // namespace strata::server
