#include "server/job_json.h"

#include <ctime>

#include "common/text.h"

namespace strata::server {

using Json = nlohmann::ordered_json;

Json TimeJson(int64_t ms) {
  if (ms <= 0) return nullptr;
  return UtcTimestamp(ms);
}

std::string DownloadName(const jobs::Job& job) {
  std::string name = job.report + "_";
  // The tenant is a value of any type: keep the name a safe file name.
  for (char c : job.tenant) {
    const bool safe =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    name.push_back(safe ? c : '_');
  }
  return name + "." + job.format;
}

Json JobJson(const jobs::Job& job, const jobs::RunHistory& history, int64_t now) {
  Json j;
  j["id"] = job.id;
  j["report"] = job.report;
  j["tenant"] = job.tenant;
  Json params = Json::object();
  for (const auto& [name, value] : job.params) params[name] = value;
  j["params"] = params;
  j["format"] = job.format;
  j["state"] = jobs::JobStateName(job.state);
  j["attempt"] = job.attempt;
  j["max_attempts"] = job.max_attempts;
  j["rows"] = job.rows;
  j["bytes"] = job.bytes;
  const bool running = job.state == jobs::JobState::kRunning;
  double elapsed = 0;
  if (job.started_at > 0) {
    const int64_t end = running ? now : job.finished_at;
    elapsed = static_cast<double>(std::max<int64_t>(0, end - job.started_at)) / 1000.0;
  }
  j["elapsed_seconds"] = job.started_at > 0 ? Json(elapsed) : Json(nullptr);
  const double rate = elapsed > 0 ? static_cast<double>(job.rows) / elapsed : 0;
  j["rows_per_second"] = elapsed > 0 ? Json(rate) : Json(nullptr);
  j["expected_rows"] = history.runs > 0 ? Json(history.median_rows) : Json(nullptr);
  Json eta = nullptr;
  if (history.runs > 0 && (running || job.state == jobs::JobState::kQueued)) {
    double left;
    if (running && job.rows > 0 && rate > 0) {
      left = static_cast<double>(std::max<int64_t>(0, history.median_rows - job.rows)) / rate;
    } else {
      left = std::max(0.0, history.median_seconds - elapsed);
    }
    eta = left;
  }
  j["eta_seconds"] = eta;
  j["error"] = job.error.empty() || job.state == jobs::JobState::kDone ? Json(nullptr) : Json(job.error);
  j["cancel_requested"] = job.cancel_requested;
  j["created_at"] = TimeJson(job.created_at);
  j["started_at"] = TimeJson(job.started_at);
  j["finished_at"] = TimeJson(job.finished_at);
  j["expires_at"] = TimeJson(job.expires_at);
  j["file_name"] = DownloadName(job);
  const bool downloadable = job.state == jobs::JobState::kDone && !job.expired && !job.file.empty();
  j["download"] = downloadable ? Json("/api/v1/exports/" + job.id + "/file") : Json(nullptr);
  j["expired"] = job.expired;
  j["version"] = job.version.empty() ? Json(nullptr) : Json(job.version);
  j["fallback"] = job.fallback;
  return j;
}

}  // namespace strata::server
