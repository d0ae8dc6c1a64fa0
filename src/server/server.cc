#include "server/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server/auth.h"
#include "server/byte_range.h"
#include "server/export_request.h"
#include "server/http_server.h"
#include "server/job_json.h"
#include "server/metrics_text.h"
#include "server/web_assets.h"
#include "sink/sink.h"
#include "watch/watch.h"

namespace strata::server {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr const char* kJson = "application/json";

// Job stores for the request threads: one per request at a time, reused. At most kMaxOpen are
// open (request threads are many; the store's connections must stay few: PostgreSQL's
// max_connections is shared with every other process), and at most kMaxIdle stay open unused. A
// request that finds them all busy waits up to kWait, then is answered 503.
class StorePool {
 public:
  static constexpr size_t kMaxOpen = 16;
  static constexpr size_t kMaxIdle = 4;
  static constexpr std::chrono::seconds kWait{10};

  explicit StorePool(std::string url) : url_(std::move(url)) {}
  class Lease {
   public:
    Lease(StorePool* pool, std::unique_ptr<jobs::JobStore> store) : pool_(pool), store_(std::move(store)) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), store_(std::move(other.store_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (store_) pool_->Return(std::move(store_));
    }
    jobs::JobStore* operator->() { return store_.get(); }
    jobs::JobStore& operator*() { return *store_; }

   private:
    StorePool* pool_;
    std::unique_ptr<jobs::JobStore> store_;
  };
  Result<Lease> Acquire() {
    {
      std::unique_lock lock(mu_);
      if (!freed_.wait_for(lock, kWait, [&] { return !idle_.empty() || open_ < kMaxOpen; })) {
        return Status::TransientDatabase("every connection to the job store is busy; try again");
      }
      if (!idle_.empty()) {
        auto store = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(store));
      }
      ++open_;
    }
    auto store = jobs::ConnectJobStore(url_);
    if (!store.ok()) {
      Closed();
      return store.status();
    }
    return Lease(this, std::move(*store));
  }

 private:
  void Return(std::unique_ptr<jobs::JobStore> store) {
    {
      std::lock_guard lock(mu_);
      if (idle_.size() < kMaxIdle) {
        idle_.push_back(std::move(store));
        freed_.notify_one();
        return;
      }
    }
    store.reset();  // closes the connection, outside the lock
    Closed();
  }
  void Closed() {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    freed_.notify_one();
  }
  std::string url_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<jobs::JobStore>> idle_;  // guarded by mu_
  size_t open_ = 0;                                    // idle and leased; guarded by mu_
};

void SendError(httplib::Response& res, int status, const std::string& message, const std::string& field = "") {
  Json body;
  body["error"] = message;
  body["field"] = field.empty() ? Json(nullptr) : Json(field);
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), kJson);
}

void SendJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, Json::error_handler_t::replace), kJson);
}

// The answer to a DELETE that changed nothing: another cancel came first, or the export ended.
void AlreadyCancelled(httplib::Response& res, const std::optional<jobs::Job>& job, const std::string& id) {
  if (!job) return SendError(res, 404, "no export " + id);
  if (job->state == jobs::JobState::kRunning) {
    return SendError(res, 409, "the export is already being cancelled (another request asked first)");
  }
  SendError(res, 409, std::string("the export is already ") + jobs::JobStateName(job->state));
}

}  // namespace

struct Server::Impl {
  Impl(const Project& p, ServeOptions o)
      : project(p), options(std::move(o)), stores(options.workers.jobs_url), pool(p, options.workers, &metrics) {}

  const Project& project;
  ServeOptions options;
  KeyRing keys;
  StorePool stores;
  jobs::RunMetrics metrics;
  std::unique_ptr<watch::Watch> watch;  // before the pool: it outlives the workers that call it
  jobs::WorkerPool pool;
  HttpServer http{options.http};
  int bound_port = 0;
  std::mutex stop_mu;        // Stop() may come from a signal thread, during Start() or Run()
  bool stopped = false;      // guarded by stop_mu
  bool run_started = false;  // guarded by stop_mu

  int64_t Now() const { return options.workers.now_ms(); }

  // The caller of an /api/ request, or nullopt after answering 401.
  std::optional<Caller> Authenticate(const httplib::Request& req, httplib::Response& res) {
    auto caller = keys.Authenticate(req.get_header_value("Authorization"));
    if (!caller) {
      res.set_header("WWW-Authenticate", "Bearer");
      SendError(res, 401,
                req.has_header("Authorization")
                    ? "this key is not one of the keys in strata.toml"
                    : "no key: send Authorization: Bearer <key> (strata key new makes one)");
    }
    return caller;
  }

  // The job, if the caller may see it; otherwise answers 404 (or 503) and returns nullopt.
  std::optional<jobs::Job> VisibleJob(const Caller& caller, const std::string& id, httplib::Response& res) {
    auto store = stores.Acquire();
    if (!store.ok()) {
      SendError(res, 503, store.status().message());
      return std::nullopt;
    }
    auto job = (*store)->Get(id);
    if (!job.ok()) {
      SendError(res, 503, job.status().message());
      return std::nullopt;
    }
    // Another tenant's export answers exactly as a missing one: its existence is not revealed.
    if (!*job || (!caller.service && (*job)->tenant != caller.tenant)) {
      SendError(res, 404, "no export " + id);
      return std::nullopt;
    }
    return **job;
  }

  Json Describe(jobs::JobStore& store, const jobs::Job& job) {
    jobs::RunHistory history;
    if (job.state == jobs::JobState::kQueued || job.state == jobs::JobState::kRunning) {
      auto h = store.History(job.tenant, job.report);
      if (h.ok()) history = *h;
    }
    return JobJson(job, history, Now());
  }

  void Routes();
  void PostExport(const httplib::Request& req, httplib::Response& res);
  void ListExports(const httplib::Request& req, httplib::Response& res);
  void GetExport(const httplib::Request& req, httplib::Response& res);
  void CancelExport(const httplib::Request& req, httplib::Response& res);
  void Download(const httplib::Request& req, httplib::Response& res);
  void Reports(const httplib::Request& req, httplib::Response& res);
  void WatchLedger(const httplib::Request& req, httplib::Response& res);
  void WatchRelease(const httplib::Request& req, httplib::Response& res);
  std::string WatchMetrics();
};

void Server::Impl::Routes() {
  http.set_payload_max_length(options.max_body);
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendError(res, 413, "the body is too large");
    } else if (res.status == 404) {
      SendError(res, 404, "no such path");
    } else {
      SendError(res, res.status, "the request failed (HTTP " + std::to_string(res.status) + ")");
    }
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr e) {
    std::string what = "internal error";
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what += std::string(": ") + x.what();
    } catch (...) {
    }
    SendError(res, 500, what);
  });
  http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
  });

  for (const WebAsset& asset : WebAssets()) {
    const std::string path(asset.path);
    http.Get(path == "/index.html" ? "/" : path, [asset](const httplib::Request&, httplib::Response& res) {
      res.set_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
      res.set_content(std::string(asset.body), std::string(asset.content_type).c_str());
    });
  }
  http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    auto store = stores.Acquire();
    Status s = store.ok() ? (*store)->Ping() : store.status();
    if (s.ok()) s = pool.EnsureFilesFolder();
    if (!s.ok()) return SendError(res, 503, s.message());
    SendJson(res, 200, Json{{"status", "ok"}});
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    auto store = stores.Acquire();
    Result<jobs::QueueCounts> counts = store.ok() ? (*store)->Counts() : Result<jobs::QueueCounts>(store.status());
    if (!counts.ok()) return SendError(res, 503, counts.status().message());
    res.set_content(
        MetricsText(*counts, metrics.Snapshot()) + LimitMetricsText(pool.limit(), pool.pressure()) + WatchMetrics(),
        "text/plain; version=0.0.4");
  });
  http.Get("/api/v1/watch", [this](const auto& req, auto& res) { WatchLedger(req, res); });
  http.Post("/api/v1/watch/release", [this](const auto& req, auto& res) { WatchRelease(req, res); });
  http.Get("/api/v1/reports", [this](const auto& req, auto& res) { Reports(req, res); });
  http.Post("/api/v1/exports", [this](const auto& req, auto& res) { PostExport(req, res); });
  http.Get("/api/v1/exports", [this](const auto& req, auto& res) { ListExports(req, res); });
  http.Get(R"(/api/v1/exports/([0-9a-f]{32}))", [this](const auto& req, auto& res) { GetExport(req, res); });
  http.Delete(R"(/api/v1/exports/([0-9a-f]{32}))", [this](const auto& req, auto& res) { CancelExport(req, res); });
  http.Get(R"(/api/v1/exports/([0-9a-f]{32})/file)", [this](const auto& req, auto& res) { Download(req, res); });
}

void Server::Impl::Reports(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  Json list = Json::array();
  for (const ReportSpec& r : project.reports) {
    if (!r.serve) continue;
    Json params = Json::array();
    for (const ParamSpec& p : r.params) {
      const bool tenant = p.name == project.tenant_param;
      Json param;
      param["name"] = p.name;
      param["type"] = std::string(ParamTypeName(p.type));
      param["required"] = !p.default_value.has_value();
      param["default"] = p.default_value ? Json(*p.default_value) : Json(nullptr);
      param["tenant"] = tenant;
      params.push_back(param);
    }
    list.push_back(Json{{"name", r.name}, {"title", r.title}, {"params", params}});
  }
  Json body;
  body["tenant_param"] = project.tenant_param;
  body["tenant"] = caller->service ? Json(nullptr) : Json(caller->tenant);
  body["reports"] = list;
  SendJson(res, 200, body);
}

void Server::Impl::WatchLedger(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  if (!caller->service) return SendError(res, 403, "the watch's ledger is for service keys only");
  auto entries = watch->Entries();
  if (!entries.ok()) return SendError(res, 503, entries.status().message());
  Json list = Json::array();
  for (const watch::Entry& e : *entries) list.push_back(watch::EntryJson(e, project));
  SendJson(res, 200, Json{{"entries", list}});
}

// {"report": "...", "tenant": <value>}: the tenant's exports run the current version again.
void Server::Impl::WatchRelease(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  if (!caller->service) return SendError(res, 403, "only a service key may release a fallback");
  const Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return SendError(res, 400, "the body must be a JSON object");
  if (!body.contains("report") || !body["report"].is_string()) {
    return SendError(res, 400, "report: expected the report's name", "report");
  }
  const Json given = body.contains("tenant") ? body["tenant"] : Json(nullptr);
  if (!given.is_string() && !given.is_number_integer() && !given.is_boolean()) {
    return SendError(res, 400, "tenant: expected the tenant's value", "tenant");
  }
  // The tenant as the ledger holds it: the value's canonical text for the tenant parameter's type.
  std::string tenant = given.is_string() ? given.get<std::string>() : given.dump();
  if (const ParamSpec* spec = project.TenantSpec()) {
    auto parsed = ParseParamValue(spec->type, tenant);
    if (!parsed.ok()) return SendError(res, 400, "tenant: " + parsed.status().message(), "tenant");
    tenant = parsed->text;
  }
  auto released = watch->Release(body["report"].get<std::string>(), tenant);
  if (!released.ok()) return SendError(res, 503, released.status().message());
  SendJson(res, 200, Json{{"released", *released}});
}

std::string Server::Impl::WatchMetrics() {
  auto entries = watch->Entries();
  int64_t active = 0;
  int64_t regressed = 0;
  if (entries.ok()) {
    for (const watch::Entry& e : *entries) {
      active += e.state == "fallback";
      regressed += e.state == "regressed";
    }
  }
  return WatchMetricsText(watch->counts(), active, regressed);
}

void Server::Impl::PostExport(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  ParsedExportRequest parsed = ParseExportRequest(project, *caller, req.body, options.max_attempts);
  if (!parsed.ok) return SendError(res, parsed.error.status, parsed.error.message, parsed.error.field);
  auto store = stores.Acquire();
  if (!store.ok()) return SendError(res, 503, store.status().message());
  auto queued = (*store)->Enqueue(parsed.request, Now());
  if (!queued.ok()) return SendError(res, 503, queued.status().message());
  pool.Wake();
  Json body = Describe(**store, queued->job);
  body["deduplicated"] = queued->deduplicated;
  res.set_header("Location", "/api/v1/exports/" + queued->job.id);
  SendJson(res, 202, body);
}

void Server::Impl::ListExports(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  int limit = 100;
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    int n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 500) {
      return SendError(res, 400, "limit: expected a whole number from 1 to 500", "limit");
    }
    limit = n;
  }
  std::string tenant = caller->tenant;
  if (req.has_param("tenant")) {
    if (!caller->service) return SendError(res, 403, "tenant: only a service key may name a tenant", "tenant");
    tenant = req.get_param_value("tenant");
  }
  auto store = stores.Acquire();
  if (!store.ok()) return SendError(res, 503, store.status().message());
  auto jobs = (*store)->List(tenant, limit);
  if (!jobs.ok()) return SendError(res, 503, jobs.status().message());
  Json list = Json::array();
  for (const jobs::Job& job : *jobs) list.push_back(Describe(**store, job));
  SendJson(res, 200, Json{{"exports", list}});
}

void Server::Impl::GetExport(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  auto job = VisibleJob(*caller, req.matches[1], res);
  if (!job) return;
  auto store = stores.Acquire();
  if (!store.ok()) return SendError(res, 503, store.status().message());
  SendJson(res, 200, Describe(**store, *job));
}

void Server::Impl::CancelExport(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  auto job = VisibleJob(*caller, req.matches[1], res);
  if (!job) return;
  if (job->state != jobs::JobState::kQueued && job->state != jobs::JobState::kRunning) {
    return SendError(res, 409, std::string("the export is already ") + jobs::JobStateName(job->state));
  }
  auto store = stores.Acquire();
  if (!store.ok()) return SendError(res, 503, store.status().message());
  auto cancelled = (*store)->Cancel(job->id, Now());
  if (!cancelled.ok()) return SendError(res, 503, cancelled.status().message());
  if (!cancelled->requested) return AlreadyCancelled(res, cancelled->job, job->id);
  pool.CancelLocal(job->id);
  // A running export stops when its query does: wait for that (briefly) so the answer is final.
  const auto until = std::chrono::steady_clock::now() + options.cancel_wait;
  std::optional<jobs::Job> now = cancelled->job;
  while (now && now->state == jobs::JobState::kRunning && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto again = (*store)->Get(job->id);
    if (!again.ok()) break;
    now = *again;
  }
  if (!now) return SendError(res, 404, "no export " + job->id);
  SendJson(res, 200, Describe(**store, *now));
}

void Server::Impl::Download(const httplib::Request& req, httplib::Response& res) {
  auto caller = Authenticate(req, res);
  if (!caller) return;
  auto job = VisibleJob(*caller, req.matches[1], res);
  if (!job) return;
  if (job->state != jobs::JobState::kDone) {
    return SendError(res, 409, std::string("the export is ") + jobs::JobStateName(job->state) + ", not done");
  }
  if (job->expired || job->file.empty()) return SendError(res, 410, "the file has expired; start the export again");
  const std::string path = (fs::path(options.workers.files) / job->file).string();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return SendError(res, 410, "the file is gone from the files folder; start the export again");
  }
  auto owner = std::shared_ptr<int>(new int(fd), [](int* f) {
    close(*f);
    delete f;
  });
  const Format format = FormatFromName(job->format).ok() ? *FormatFromName(job->format) : Format::kXlsx;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  ByteRange range = ParseRange(req.get_header_value("Range"), size);
  // The library (cpp-httplib 0.11) applies Range itself without checking it against the size: it
  // promises bytes past the end and wraps below zero. Ranges are answered here instead, so the
  // parsed ones it keeps in the request are dropped; the request object is the server's own,
  // not const, so this is well defined.
  const_cast<httplib::Request&>(req).ranges.clear();
  res.set_header("Accept-Ranges", "bytes");
  if (range.unsatisfiable) {
    res.set_header("Content-Range", "bytes */" + std::to_string(size));
    return SendError(res, 416, "the range is outside the file's " + std::to_string(size) + " bytes");
  }
  res.set_header("Content-Disposition", "attachment; filename=\"" + DownloadName(*job) + "\"");
  uint64_t first = 0;
  uint64_t length = size;
  res.status = 200;
  if (range.partial) {
    first = range.first;
    length = range.last - range.first + 1;
    res.status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                                        std::to_string(size));
  }
  res.set_content_provider(static_cast<size_t>(length), FormatMediaType(format),
                           [owner, first](size_t offset, size_t want, httplib::DataSink& sink) {
                             char buffer[64 * 1024];
                             uint64_t at = first + offset;
                             while (want > 0) {
                               const ssize_t n =
                                   pread(*owner, buffer, std::min(want, sizeof buffer), static_cast<off_t>(at));
                               if (n <= 0) return false;
                               if (!sink.write(buffer, static_cast<size_t>(n))) return false;
                               at += static_cast<uint64_t>(n);
                               want -= static_cast<size_t>(n);
                             }
                             return true;
                           });
}

Server::Server(const Project& project, ServeOptions options) : impl_(new Impl(project, std::move(options))) {}

Server::~Server() {
  Stop();
}

Status Server::Start() {
  auto keys = KeyRing::FromProject(impl_->project);
  if (!keys.ok()) return keys.status();
  impl_->keys = std::move(*keys);
  std::error_code ec;
  fs::create_directories(impl_->options.workers.files, ec);
  if (ec) return Status::Io("cannot make the files folder " + impl_->options.workers.files + ": " + ec.message());
  // Makes the store's tables once, up front; every later connection only connects.
  auto store = jobs::OpenJobStore(impl_->options.workers.jobs_url);
  if (!store.ok()) return store.status();
  watch::WatchOptions watch_options;
  watch_options.jobs_url = impl_->options.workers.jobs_url;
  watch_options.now_ms = impl_->options.workers.now_ms;
  watch_options.log = impl_->options.workers.log;
  auto watch = watch::Watch::Open(impl_->project, std::move(watch_options));
  if (!watch.ok()) return watch.status();
  impl_->watch = std::move(*watch);
  impl_->pool.SetObserver(impl_->watch.get());
  impl_->Routes();
  const ServeOptions& o = impl_->options;
  if (o.port == 0) {
    impl_->bound_port = impl_->http.bind_to_any_port(o.host);
    if (impl_->bound_port <= 0) return Status::Io("cannot listen on " + o.host);
  } else {
    if (!impl_->http.bind_to_port(o.host, o.port)) {
      return Status::Io("cannot listen on " + o.host + ":" + std::to_string(o.port) +
                        " (in use, or not an address here)");
    }
    impl_->bound_port = o.port;
  }
  if (!impl_->http.RaiseBacklog())
    return Status::Io("cannot raise the listen backlog: " + std::string(strerror(errno)));
  // A Stop() that came first (a signal during start-up) wins: no workers are started.
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) return Status::Cancelled("stopped while starting");
  return impl_->pool.Start();
}

Status Server::Run() {
  {
    std::lock_guard lock(impl_->stop_mu);
    if (impl_->stopped) return Status::Ok();
    impl_->run_started = true;
  }
  if (!impl_->http.listen_after_bind()) return Status::Io("the server stopped listening");
  return Status::Ok();
}

void Server::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  const bool first = !impl_->stopped;
  impl_->stopped = true;
  // The library ignores stop() between bind and listen: wait (briefly) until Run() listens.
  for (int k = 0; first && impl_->run_started && !impl_->http.is_running() && k < 500; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  impl_->http.stop();
  impl_->pool.Stop();
}

int Server::port() const {
  return impl_->bound_port;
}

}  // namespace strata::server
