// /metrics: the queue (from the job store: every process sharing it) and this process's exports,
// per report, in Prometheus' text format.
#pragma once

#include <map>
#include <string>

#include "jobs/job_store.h"
#include "jobs/run_metrics.h"

namespace strata::server {

std::string MetricsText(const jobs::QueueCounts& counts,
                        const std::map<std::string, jobs::RunMetrics::PerReport>& reports);

}  // namespace strata::server
