// /metrics: the queue (from the job store: every process sharing it) and this process's exports,
// per report, in Prometheus' text format.
#pragma once

#include <map>
#include <string>

#include "jobs/job_store.h"
#include "jobs/run_metrics.h"
#include "watch/watch.h"

namespace strata::server {

std::string MetricsText(const jobs::QueueCounts& counts,
                        const std::map<std::string, jobs::RunMetrics::PerReport>& reports);

// The adaptive limit on exports running at once (jobs/adaptive_limit.h), and the latency ratio behind it.
std::string LimitMetricsText(int limit, double pressure);

// The watch's: what it did in this process, and the ledger's fallbacks and alerts now (every process).
std::string WatchMetricsText(const watch::WatchCounts& counts, int64_t active_fallbacks, int64_t regressed);

}  // namespace strata::server
