#include "report/project.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/duration.h"

namespace strata {

namespace fs = std::filesystem;

const ParamSpec* ReportSpec::FindParam(std::string_view param) const {
  for (const ParamSpec& p : params) {
    if (p.name == param) return &p;
  }
  return nullptr;
}

const ReportSpec* Project::FindReport(std::string_view name) const {
  for (const ReportSpec& r : reports) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const ParamSpec* Project::TenantSpec() const {
  for (const ReportSpec& r : reports) {
    if (const ParamSpec* spec = r.FindParam(tenant_param)) return spec;
  }
  return nullptr;
}

namespace {

// Puts parameters in the order strata.toml declares them (users see them in that order: `strata
// reports`, the web page), by the position of each key.
void SortAsDeclared(std::vector<ParamSpec>* params, const std::vector<toml::source_position>& at) {
  std::vector<size_t> order(params->size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return at[a].line != at[b].line ? at[a].line < at[b].line : at[a].column < at[b].column;
  });
  std::vector<ParamSpec> sorted;
  for (size_t k : order) sorted.push_back(std::move((*params)[k]));
  *params = std::move(sorted);
}

// Reads strata.toml's tables and turns every problem into a message naming file:line:column.
class Loader {
 public:
  explicit Loader(Project* project) : p_(project) {}

  Status Load();

 private:
  std::string At(const toml::source_region& where) const {
    return p_->config_path + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
  }
  Status Error(const toml::node& node, const std::string& what) const {
    return Status::Config(At(node.source()) + ": " + what);
  }

  // Every key of table must be in known; names the first unknown one.
  Status CheckKeys(const toml::table& table, std::string_view where,
                   std::initializer_list<std::string_view> known) const {
    for (auto&& [key, node] : table) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        return Status::Config(At(key.source()) + ": unknown key '" + std::string(key.str()) + "' in " +
                              std::string(where) + " (known keys: " + list + ")");
      }
    }
    return Status::Ok();
  }

  Result<const toml::table*> Table(const toml::node& node, const std::string& what) const {
    if (!node.is_table()) return Error(node, what + " must be a table");
    return node.as_table();
  }
  Result<std::string> String(const toml::node& node, const std::string& what) const {
    if (!node.is_string()) return Error(node, what + " must be a string");
    return node.as_string()->get();
  }
  Result<std::chrono::milliseconds> Duration(const toml::node& node, const std::string& what) const {
    auto text = String(node, what);
    if (!text.ok()) return text.status();
    auto d = ParseDuration(*text);
    if (!d) return Error(node, what + " is not a duration like \"250ms\", \"30s\", \"10min\", \"2h\": '" + *text + "'");
    return *d;
  }
  Result<double> Number(const toml::node& node, const std::string& what) const {
    if (node.is_integer()) return static_cast<double>(node.as_integer()->get());
    if (node.is_floating_point()) return node.as_floating_point()->get();
    return Error(node, what + " must be a number");
  }
  Result<int> PositiveInt(const toml::node& node, const std::string& what) const {
    if (!node.is_integer() || node.as_integer()->get() < 1 || node.as_integer()->get() > 1'000'000) {
      return Error(node, what + " must be a whole number from 1 to 1000000");
    }
    return static_cast<int>(node.as_integer()->get());
  }

  // A SQL file relative to the project folder, lexed.
  Result<ParsedSql> SqlFile(const toml::node& node, const std::string& relative) const;
  // A tenant list: a .sql file, or inline SQL.
  Result<ParsedSql> TenantList(const toml::node& node) const;

  Status Database(const toml::table& t);
  Status Tenant(const toml::table& t);
  Status Report(const std::string& name, const toml::node& node);
  Status Params(ReportSpec* report, const toml::table& t);
  Status Check(const toml::table& t);
  Status Serve(const toml::table& t);
  Status Watch(const toml::table& t);

  Project* p_;
};

Result<ParsedSql> Loader::SqlFile(const toml::node& node, const std::string& relative) const {
  const fs::path path = fs::path(p_->folder) / relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(node, "cannot read SQL file '" + path.string() + "'");
  std::stringstream text;
  text << in.rdbuf();
  return ParseSql(text.str(), path.string());
}

Result<ParsedSql> Loader::TenantList(const toml::node& node) const {
  auto text = String(node, "a tenant list");
  if (!text.ok()) return text.status();
  if (text->size() > 4 && text->substr(text->size() - 4) == ".sql") return SqlFile(node, *text);
  int line = static_cast<int>(node.source().begin.line);
  auto sql = ParseSql(*text, p_->config_path + " (inline SQL at line " + std::to_string(line) + ")");
  return sql;
}

Status Loader::Database(const toml::table& t) {
  STRATA_RETURN_IF_ERROR(CheckKeys(t, "[database]", {"url", "statement_timeout"}));
  if (const toml::node* url = t.get("url")) {
    auto s = String(*url, "database.url");
    if (!s.ok()) return s.status();
    p_->database_url = *s;
    p_->database_url_at = At(url->source());
  }
  if (const toml::node* timeout = t.get("statement_timeout")) {
    auto d = Duration(*timeout, "database.statement_timeout");
    if (!d.ok()) return d.status();
    p_->statement_timeout = *d;
  }
  return Status::Ok();
}

Status Loader::Tenant(const toml::table& t) {
  STRATA_RETURN_IF_ERROR(CheckKeys(t, "[tenant]", {"param", "list"}));
  if (const toml::node* param = t.get("param")) {
    auto s = String(*param, "tenant.param");
    if (!s.ok()) return s.status();
    p_->tenant_param = *s;
  }
  if (const toml::node* list = t.get("list")) {
    auto sql = TenantList(*list);
    if (!sql.ok()) return sql.status();
    p_->tenant_list = std::move(*sql);
  }
  return Status::Ok();
}

Status Loader::Params(ReportSpec* report, const toml::table& t) {
  std::vector<toml::source_position> declared_at;  // the TOML table iterates by name
  for (auto&& [key, node] : t) {
    const std::string what = "parameter '" + std::string(key.str()) + "' of report '" + report->name + "'";
    auto spec_table = Table(node, what + " (write it as { type = \"bigint\" })");
    if (!spec_table.ok()) return spec_table.status();
    STRATA_RETURN_IF_ERROR(CheckKeys(**spec_table, what, {"type", "default"}));
    ParamSpec spec;
    spec.name = std::string(key.str());
    const toml::node* type_node = (*spec_table)->get("type");
    if (type_node == nullptr) return Status::Config(At(key.source()) + ": " + what + " has no type");
    auto type_name = String(*type_node, what + "'s type");
    if (!type_name.ok()) return type_name.status();
    auto type = ParamTypeFromName(*type_name);
    if (!type) {
      return Error(*type_node, what + " has unknown type '" + *type_name + "' (types: " + ParamTypeNames() + ")");
    }
    spec.type = *type;
    if (const toml::node* def = (*spec_table)->get("default")) {
      std::string text;
      if (def->is_string()) {
        text = def->as_string()->get();
      } else if (def->is_integer()) {
        text = std::to_string(def->as_integer()->get());
      } else if (def->is_boolean()) {
        text = def->as_boolean()->get() ? "true" : "false";
      } else if (def->is_floating_point()) {  // the shortest text that reads back as the same double
        char buf[32];
        text.assign(buf, std::to_chars(buf, buf + sizeof buf, def->as_floating_point()->get()).ptr);
      } else if (def->is_date()) {
        std::ostringstream os;
        os << def->as_date()->get();
        text = os.str();
      } else if (def->is_date_time()) {
        std::ostringstream os;
        os << def->as_date_time()->get();
        text = os.str();
      } else {
        return Error(*def, what + ": the default must be a single value");
      }
      auto parsed = ParseParamValue(spec.type, text);
      if (!parsed.ok()) {
        return Error(*def, what + ": default " + text + " is not a valid " + std::string(ParamTypeName(spec.type)) +
                               ": " + parsed.status().message());
      }
      spec.default_value = text;
    }
    report->params.push_back(std::move(spec));
    declared_at.push_back(key.source().begin);
  }
  SortAsDeclared(&report->params, declared_at);
  return Status::Ok();
}

Status Loader::Report(const std::string& name, const toml::node& node) {
  auto t = Table(node, "[reports." + name + "]");
  if (!t.ok()) return t.status();
  STRATA_RETURN_IF_ERROR(CheckKeys(**t, "[reports." + name + "]",
                                   {"title", "sql", "execution", "tenants", "params", "statement_timeout", "serve"}));
  ReportSpec report;
  report.name = name;
  report.title = name;
  if (const toml::node* title = (*t)->get("title")) {
    auto s = String(*title, "title");
    if (!s.ok()) return s.status();
    report.title = *s;
  }
  const toml::node* sql = (*t)->get("sql");
  if (sql == nullptr) return Error(node, "report '" + name + "' has no sql = \"reports/" + name + ".sql\"");
  auto sql_path = String(*sql, "sql");
  if (!sql_path.ok()) return sql_path.status();
  report.sql_path = *sql_path;
  auto parsed = SqlFile(*sql, *sql_path);
  if (!parsed.ok()) return parsed.status();
  report.sql = std::move(*parsed);
  if (const toml::node* serve = (*t)->get("serve")) {
    if (!serve->is_boolean()) return Error(*serve, "serve must be true or false");
    report.serve = serve->as_boolean()->get();
  }
  if (const toml::node* exec = (*t)->get("execution")) {
    auto s = String(*exec, "execution");
    if (!s.ok()) return s.status();
    if (*s == "simple") {
      report.execution = Execution::kSimple;
    } else if (*s == "prepared") {
      report.execution = Execution::kPrepared;
    } else {
      return Error(*exec, "execution must be \"simple\" or \"prepared\", not '" + *s + "'");
    }
  }
  if (const toml::node* timeout = (*t)->get("statement_timeout")) {
    auto d = Duration(*timeout, "reports." + name + ".statement_timeout");
    if (!d.ok()) return d.status();
    report.statement_timeout = *d;
  }
  if (const toml::node* tenants = (*t)->get("tenants")) {
    auto list = TenantList(*tenants);
    if (!list.ok()) return list.status();
    report.tenants = std::move(*list);
  }
  if (const toml::node* params = (*t)->get("params")) {
    auto pt = Table(*params, "[reports." + name + ".params]");
    if (!pt.ok()) return pt.status();
    STRATA_RETURN_IF_ERROR(Params(&report, **pt));
  }
  // Every placeholder is declared, every declaration is used.
  for (const ParamUse& use : report.sql.uses) {
    if (report.FindParam(use.name) == nullptr) {
      std::string origin = (fs::path(p_->folder) / report.sql_path).string();
      return Status::Config(origin + ":" + std::to_string(use.line) + ":" + std::to_string(use.column) +
                            ": parameter :" + use.name + " is not declared in [reports." + name + ".params] of " +
                            p_->config_path);
    }
  }
  for (const ParamSpec& spec : report.params) {
    if (std::find(report.sql.names.begin(), report.sql.names.end(), spec.name) == report.sql.names.end()) {
      return Error(node, "report '" + name + "' declares parameter '" + spec.name + "' but " + report.sql_path +
                             " never uses :" + spec.name);
    }
  }
  if (!p_->tenant_param.empty() && report.FindParam(p_->tenant_param) == nullptr) {
    return Error(node, "report '" + name + "' does not use the tenant parameter :" + p_->tenant_param +
                           " (every report is run for one tenant)");
  }
  p_->reports.push_back(std::move(report));
  return Status::Ok();
}

Status Loader::Check(const toml::table& t) {
  STRATA_RETURN_IF_ERROR(
      CheckKeys(t, "[check]", {"repetitions", "slower_ratio", "min_slower_ms", "max_tenants", "sweep_budget"}));
  if (const toml::node* n = t.get("sweep_budget")) {
    if (n->is_integer() && n->as_integer()->get() == 0) {
      p_->check.sweep_budget = std::chrono::milliseconds(0);
    } else if (n->is_string() && n->as_string()->get() == "0") {
      p_->check.sweep_budget = std::chrono::milliseconds(0);
    } else {
      auto d = Duration(*n, "check.sweep_budget");
      if (!d.ok()) return d.status();
      p_->check.sweep_budget = *d;
    }
  }
  if (const toml::node* n = t.get("repetitions")) {
    auto v = PositiveInt(*n, "check.repetitions");
    if (!v.ok()) return v.status();
    p_->check.repetitions = *v;
  }
  if (const toml::node* n = t.get("max_tenants")) {
    auto v = PositiveInt(*n, "check.max_tenants");
    if (!v.ok()) return v.status();
    p_->check.max_tenants = *v;
  }
  if (const toml::node* n = t.get("slower_ratio")) {
    auto v = Number(*n, "check.slower_ratio");
    if (!v.ok()) return v.status();
    if (*v < 1.0) return Error(*n, "check.slower_ratio must be at least 1.0");
    p_->check.slower_ratio = *v;
  }
  if (const toml::node* n = t.get("min_slower_ms")) {
    auto v = Number(*n, "check.min_slower_ms");
    if (!v.ok()) return v.status();
    if (*v < 0) return Error(*n, "check.min_slower_ms must not be negative");
    p_->check.min_slower_ms = *v;
  }
  return Status::Ok();
}

Status Loader::Watch(const toml::table& t) {
  STRATA_RETURN_IF_ERROR(CheckKeys(t, "[serve.watch]", {"mode", "min_ratio", "min_slower_ms", "webhook", "cooldown"}));
  WatchSettings& w = p_->serve.watch;
  if (const toml::node* n = t.get("mode")) {
    auto s = String(*n, "serve.watch.mode");
    if (!s.ok()) return s.status();
    if (*s == "fallback") {
      w.mode = WatchSettings::Mode::kFallback;
    } else if (*s == "alert") {
      w.mode = WatchSettings::Mode::kAlert;
    } else if (*s == "off") {
      w.mode = WatchSettings::Mode::kOff;
    } else {
      return Error(*n, "serve.watch.mode must be \"fallback\", \"alert\" or \"off\", not '" + *s + "'");
    }
  }
  if (const toml::node* n = t.get("min_ratio")) {
    auto v = Number(*n, "serve.watch.min_ratio");
    if (!v.ok()) return v.status();
    if (!(*v > 1)) return Error(*n, "serve.watch.min_ratio must be more than 1 (1.5: half as fast again)");
    w.min_ratio = *v;
  }
  if (const toml::node* n = t.get("min_slower_ms")) {
    auto v = Number(*n, "serve.watch.min_slower_ms");
    if (!v.ok()) return v.status();
    if (*v < 0) return Error(*n, "serve.watch.min_slower_ms must not be negative");
    w.min_slower_ms = *v;
  }
  if (const toml::node* n = t.get("webhook")) {
    auto s = String(*n, "serve.watch.webhook");
    if (!s.ok()) return s.status();
    if (s->rfind("http://", 0) != 0 || s->size() <= 7) {
      return Error(*n, "serve.watch.webhook must be an http:// URL (put a TLS proxy in front for https)");
    }
    w.webhook = *s;
  }
  if (const toml::node* n = t.get("cooldown")) {
    auto d = Duration(*n, "serve.watch.cooldown");
    if (!d.ok()) return d.status();
    w.cooldown = *d;
  }
  return Status::Ok();
}

Status Loader::Serve(const toml::table& t) {
  STRATA_RETURN_IF_ERROR(CheckKeys(t, "[serve]", {"files", "keep", "keys", "watch"}));
  if (const toml::node* n = t.get("watch")) {
    const toml::table* w = n->as_table();
    if (w == nullptr) return Error(*n, "serve.watch must be a table: [serve.watch]");
    STRATA_RETURN_IF_ERROR(Watch(*w));
  }
  if (const toml::node* n = t.get("files")) {
    auto s = String(*n, "serve.files");
    if (!s.ok()) return s.status();
    p_->serve.files = *s;
  }
  if (const toml::node* n = t.get("keep")) {
    auto d = Duration(*n, "serve.keep");
    if (!d.ok()) return d.status();
    p_->serve.keep = *d;
  }
  if (const toml::node* n = t.get("keys")) {
    if (!n->is_array_of_tables()) return Error(*n, "serve.keys must be written as [[serve.keys]] tables");
    for (const toml::node& k : *n->as_array()) {
      const toml::table& kt = *k.as_table();
      STRATA_RETURN_IF_ERROR(CheckKeys(kt, "[[serve.keys]]", {"sha256", "tenant", "role"}));
      ApiKeySpec key;
      const toml::node* sha = kt.get("sha256");
      if (sha == nullptr) return Error(k, "[[serve.keys]] needs sha256 = \"<hex of the key's SHA-256>\"");
      auto hex = String(*sha, "sha256");
      if (!hex.ok()) return hex.status();
      if (hex->size() != 64 || hex->find_first_not_of("0123456789abcdef") != std::string::npos) {
        return Error(*sha, "sha256 must be 64 lower-case hex digits");
      }
      key.sha256 = *hex;
      if (const toml::node* tenant = kt.get("tenant")) {
        if (tenant->is_integer()) {
          key.tenant = std::to_string(tenant->as_integer()->get());
        } else if (tenant->is_string()) {
          key.tenant = tenant->as_string()->get();
        } else {
          return Error(*tenant, "tenant must be a number or a string");
        }
      }
      if (const toml::node* role = kt.get("role")) {
        auto r = String(*role, "role");
        if (!r.ok()) return r.status();
        if (*r != "service") return Error(*role, "role must be \"service\"");
        key.service = true;
      }
      if (key.service == key.tenant.has_value()) {
        return Error(k, "a key has either tenant = <value> or role = \"service\", exactly one of them");
      }
      p_->serve.keys.push_back(std::move(key));
    }
  }
  return Status::Ok();
}

Status Loader::Load() {
  toml::table root;
  try {
    root = toml::parse_file(p_->config_path);
  } catch (const toml::parse_error& e) {
    if (!fs::exists(p_->config_path)) {
      return Status::Config("no strata.toml in '" + p_->folder + "' (is --project the project folder?)");
    }
    return Status::Config(At(e.source()) + ": " + std::string(e.description()));
  }
  STRATA_RETURN_IF_ERROR(CheckKeys(root, "strata.toml", {"database", "tenant", "reports", "check", "serve"}));
  if (const toml::node* n = root.get("database")) {
    auto t = Table(*n, "[database]");
    if (!t.ok()) return t.status();
    STRATA_RETURN_IF_ERROR(Database(**t));
  }
  if (const toml::node* n = root.get("tenant")) {
    auto t = Table(*n, "[tenant]");
    if (!t.ok()) return t.status();
    STRATA_RETURN_IF_ERROR(Tenant(**t));
  }
  if (const toml::node* n = root.get("check")) {
    auto t = Table(*n, "[check]");
    if (!t.ok()) return t.status();
    STRATA_RETURN_IF_ERROR(Check(**t));
  }
  if (const toml::node* n = root.get("serve")) {
    auto t = Table(*n, "[serve]");
    if (!t.ok()) return t.status();
    STRATA_RETURN_IF_ERROR(Serve(**t));
  }
  if (p_->tenant_param.empty()) {
    return Status::Config(p_->config_path +
                          ": [tenant] param = \"...\" is missing: name the parameter that is the tenant");
  }
  if (const toml::node* n = root.get("reports")) {
    auto t = Table(*n, "[reports]");
    if (!t.ok()) return t.status();
    // toml++ tables are ordered by key; keep the order of the file instead.
    std::vector<std::pair<toml::source_position, std::string>> order;
    for (auto&& [key, node] : **t) order.emplace_back(key.source().begin, std::string(key.str()));
    std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return a.first.line != b.first.line ? a.first.line < b.first.line : a.first.column < b.first.column;
    });
    for (const auto& [pos, name] : order) STRATA_RETURN_IF_ERROR(Report(name, *(*t)->get(name)));
  }
  return Status::Ok();
}

}  // namespace

Result<Project> LoadProject(const std::string& folder) {
  Project project;
  project.folder = folder.empty() ? "." : folder;
  project.config_path = (fs::path(project.folder) / "strata.toml").string();
  Loader loader(&project);
  Status s = loader.Load();
  if (!s.ok()) return s;
  return project;
}

}  // namespace strata
