// strata serve: the HTTP API, the web page and the workers, in one process; strata key new.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/duration.h"
#include "common/text.h"
#include "server/auth.h"
#include "server/server.h"
#include "source/source.h"

namespace strata::cli {

namespace {

Result<std::chrono::milliseconds> DurationFlag(const std::string& flag, const std::string& text) {
  auto d = ParseDuration(text);
  if (!d || d->count() <= 0) return Status::Usage(flag + " " + text + ": expected a duration like 500ms, 30s, 10min");
  return *d;
}

void LogLine(const std::string& line) {
  static std::mutex mu;
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::lock_guard lock(mu);
  std::fprintf(stderr, "%s strata serve: %s\n", stamp, line.c_str());
}

// --listen host:port; an IPv6 host may be bracketed ("[::1]:8080").
Status ParseListen(const std::string& listen, server::ServeOptions* options) {
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char* begin = listen.data() + colon + 1;
    const char* end = listen.data() + listen.size();
    const auto [at, ec] = std::from_chars(begin, end, port);
    if (ec != std::errc() || at != end) port = -1;
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Status::Usage("--listen " + listen + ": expected host:port, like 127.0.0.1:8080");
  }
  options->host = listen.substr(0, colon);
  if (options->host.size() > 2 && options->host.front() == '[' && options->host.back() == ']') {
    options->host = options->host.substr(1, options->host.size() - 2);
  }
  options->port = port;
  return Status::Ok();
}

Status CheckCounts(const ServeArgs& args) {
  if (args.workers < 1 || args.workers > 64) return Status::Usage("--workers takes 1 to 64");
  if (args.max_queries < 0) return Status::Usage("--max-queries takes 1 or more");
  if (args.min_queries < 1) return Status::Usage("--min-queries takes 1 or more");
  if (args.tenant_limit < 1) return Status::Usage("--tenant-limit takes 1 or more");
  if (args.attempts < 1 || args.attempts > 100) return Status::Usage("--attempts takes 1 to 100");
  return Status::Ok();
}

// --lease, --retry-backoff and --keep (default: [serve] keep), and the periods that follow from
// them: a heartbeat four times a lease (at most a second apart), a sweep four times a keep.
Status ApplyDurations(const ServeArgs& args, const Project& project, jobs::WorkerOptions* w) {
  auto lease = DurationFlag("--lease", args.lease);
  if (!lease.ok()) return lease.status();
  if (*lease < std::chrono::seconds(2)) return Status::Usage("--lease must be at least 2s");
  auto backoff = DurationFlag("--retry-backoff", args.retry_backoff);
  if (!backoff.ok()) return backoff.status();
  std::chrono::milliseconds keep = project.serve.keep;
  if (!args.keep.empty()) {
    auto k = DurationFlag("--keep", args.keep);
    if (!k.ok()) return k.status();
    keep = *k;
  }
  w->lease = *lease;
  w->heartbeat = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(1000), *lease / 4);
  w->retry_backoff = *backoff;
  w->keep = keep;
  w->sweep = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(60000), std::max<std::chrono::milliseconds>(keep / 4, std::chrono::milliseconds(1000)));
  return Status::Ok();
}

// The reports' database, checked to answer before serve promises to run anything on it.
Result<std::string> ReportsDatabase(const ServeArgs& args, Project* project) {
  auto db = ChooseDatabase(args.database, project);
  if (db.url.empty()) {
    return Status::Usage("no database: give --database, set STRATA_DATABASE_URL, or [database] url in " +
                         project->config_path);
  }
  auto source = OpenSource(db.url);
  if (!source.ok())
    return db.origin.empty() ? source.status() : source.status().WithContext("database from " + db.origin);
  return db.url;
}

// Where the job store and the files live (beside the project unless given), who the workers are,
// and how many exports may run at once.
void PlaceWorkers(const ServeArgs& args, const Project& project, jobs::WorkerOptions* w) {
  const std::filesystem::path folder(project.folder);
  w->jobs_url = args.jobs.empty() ? "sqlite:" + (folder / "strata-jobs.db").string() : args.jobs;
  const std::filesystem::path files =
      args.files.empty() ? std::filesystem::path(project.serve.files) : std::filesystem::path(args.files);
  w->files = files.is_absolute() || !args.files.empty() ? files.string() : (folder / files).string();
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  w->name = std::string(host) + ":" + std::to_string(getpid());
  w->workers = args.workers;
  w->max_running = args.max_queries > 0 ? args.max_queries : args.workers;
  w->tenant_limit = args.tenant_limit;
  w->adaptive = !args.fixed_limit;
  w->min_running = args.min_queries;
  if (!args.quiet) w->log = LogLine;
}

// Starts the server and runs it until a signal stops it.
int ServeUntilStopped(const ServeArgs& args, const Project& project, const server::ServeOptions& options) {
  server::Server server(project, options);
  SignalWatcher signals([&server] { server.Stop(); });
  Status started = server.Start();
  if (!started.ok()) {
    if (started.code() == Status::Code::kCancelled) return kExitOk;  // a signal during start-up
    return Fail(started);
  }
  const jobs::WorkerOptions& w = options.workers;
  if (!args.quiet) {
    LogLine("serving " + project.config_path + " on http://" + options.host + ":" + std::to_string(server.port()) +
            "/ (jobs in " + RedactUrl(w.jobs_url) + ", reports on " + RedactUrl(w.database_url) + ", " +
            std::to_string(w.workers) + " workers, files in " + w.files + ")");
  }
  Status ran = server.Run();
  server.Stop();
  if (!ran.ok()) return Fail(ran);
  if (!args.quiet) LogLine("stopped");
  return kExitOk;
}

}  // namespace

int RunServe(const ServeArgs& args) {
  auto project = LoadProject(args.project);
  if (!project.ok()) return Fail(project.status());
  server::ServeOptions options;
  options.max_attempts = args.attempts;
  if (Status s = ParseListen(args.listen, &options); !s.ok()) return Fail(s);
  if (Status s = CheckCounts(args); !s.ok()) return Fail(s);
  if (Status s = ApplyDurations(args, *project, &options.workers); !s.ok()) return Fail(s);
  auto database = ReportsDatabase(args, &*project);
  if (!database.ok()) return Fail(database.status());
  options.workers.database_url = *database;
  PlaceWorkers(args, *project, &options.workers);
  return ServeUntilStopped(args, *project, options);
}

namespace {

// Appends a key's lines to strata.toml through a temporary file and a rename, then loads the
// project again; if it no longer loads, the file is put back as it was.
Status AppendKey(const std::string& folder, const std::string& config, const std::string& lines) {
  std::ifstream in(config, std::ios::binary);
  if (!in) return Status::Io("cannot read " + config);
  std::ostringstream before;
  before << in.rdbuf();
  const std::string original = before.str();
  const std::string updated = original + (original.empty() || original.back() == '\n' ? "\n" : "\n\n") + lines;
  auto write = [&](const std::string& text) -> Status {
    const std::string temp = config + ".partial";
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << text;
      if (!out.flush()) return Status::Io("cannot write " + temp);
    }
    std::error_code ec;
    std::filesystem::rename(temp, config, ec);
    if (ec) return Status::Io("cannot replace " + config + ": " + ec.message());
    return Status::Ok();
  };
  STRATA_RETURN_IF_ERROR(write(updated));
  auto reloaded = LoadProject(folder);
  if (!reloaded.ok()) {
    STRATA_RETURN_IF_ERROR(write(original));
    return Status::Config("the key was not added (" + config + " is unchanged): " + reloaded.status().message());
  }
  return Status::Ok();
}

}  // namespace

int RunKeyNew(const KeyArgs& args) {
  if (!args.service && args.tenant.empty()) {
    return Fail(Status::Usage("say whom the key is for: --tenant VALUE or --service"));
  }
  if (args.append && args.project.empty()) return Fail(Status::Usage("--append needs --project: the folder to add to"));
  std::optional<Project> project;
  if (!args.project.empty()) {
    auto loaded = LoadProject(args.project);
    if (!loaded.ok()) return Fail(loaded.status());
    project = std::move(*loaded);
  }
  std::string tenant_line;
  if (!args.service) {
    // The tenant as strata.toml will hold it: checked against the tenant parameter's type when the
    // project is given (a number bare, anything else quoted).
    std::string value = args.tenant;
    bool numeric = !value.empty();
    for (size_t k = 0; k < value.size(); ++k) {
      numeric = numeric && ((value[k] >= '0' && value[k] <= '9') || (k == 0 && value[k] == '-' && value.size() > 1));
    }
    if (const ParamSpec* spec = project ? project->TenantSpec() : nullptr) {
      auto parsed = ParseParamValue(spec->type, value);
      if (!parsed.ok()) {
        return Fail(Status::Usage("--tenant " + value + ": " + project->tenant_param + " is a " +
                                  std::string(ParamTypeName(spec->type)) + ": " + parsed.status().message()));
      }
      value = parsed->text;
      numeric = spec->type == ParamType::kInt || spec->type == ParamType::kBigint;
    }
    std::string quoted;
    for (char c : value) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(c);
    }
    tenant_line = numeric ? "tenant = " + value : "tenant = \"" + quoted + "\"";
  }
  const std::string config = project ? project->config_path : "strata.toml";
  auto key = server::NewApiKey();
  if (!key.ok()) return Fail(key.status());
  const std::string lines = "[[serve.keys]]\nsha256 = \"" + Sha256Hex(*key) + "\"\n" +
                            (args.service ? "role = \"service\"" : tenant_line) + "\n";
  if (args.append) {
    Status added = AppendKey(args.project, config, lines);
    if (!added.ok()) return Fail(added);
  }
  std::printf("key: %s\n", key->c_str());
  std::printf("(shown once: give it to the client now; strata keeps only its SHA-256)\n\n");
  if (args.append) {
    std::printf("# added to %s:\n%s", config.c_str(), lines.c_str());
  } else {
    std::printf("# paste into %s:\n%s", config.c_str(), lines.c_str());
  }
  return kExitOk;
}

}  // namespace strata::cli
