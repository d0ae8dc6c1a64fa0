// strata demo: the README's main job on the embedded default. Generates the example into SQLite
// if it is not there, shows how unevenly the tenants are sized and which are unusual, and exports
// the heaviest tenant's report, then runs the gate on the example's three rewrites, telling the user
// in plain words what happened.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "cli/cli_support.h"
#include "cli/commands.h"
#include "common/text.h"
#include "source/source.h"
#include "synth/example_data.h"

namespace strata::cli {

namespace {

struct TenantSize {
  std::string tenant;
  double size = 0;  // in the dimension shown
};

// Runs a query without parameters and returns its rows as text (small results only).
Result<std::vector<std::vector<std::string>>> Rows(Source& source, const std::string& sql, const std::string& origin,
                                                   std::vector<Column>* columns) {
  auto parsed = ParseSql(sql, origin);
  if (!parsed.ok()) return parsed.status();
  Query q{origin, "", *parsed, {}};
  auto cursor = source.Execute(q, {});
  if (!cursor.ok()) return cursor.status();
  if (columns != nullptr) *columns = (*cursor)->columns();
  std::vector<std::vector<std::string>> out;
  Batch b;
  for (;;) {
    STRATA_RETURN_IF_ERROR((*cursor)->Next(&b));
    if (b.empty()) return out;
    for (size_t r = 0; r < b.rows(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < b.columns(); ++c) {
        const Value& v = b.at(r, c);
        row.push_back(v.type == Type::kInt64    ? std::to_string(v.i)
                      : v.type == Type::kDouble ? std::to_string(v.d)
                      : v.type == Type::kNull   ? std::string()
                                                : std::string(b.Text(v)));
      }
      out.push_back(std::move(row));
    }
  }
}

void PrintHistogram(const std::vector<TenantSize>& sizes, const std::string& dimension, const std::string& tenant) {
  const double edges[] = {0, 1, 10, 100, 1000, 10000, 100000, 1e12};
  const char* labels[] = {"0", "1-9", "10-99", "100-999", "1,000-9,999", "10,000-99,999", "100,000+"};
  size_t counts[7] = {};
  for (const TenantSize& s : sizes) {
    for (int k = 0; k < 7; ++k) {
      if (s.size >= edges[k] && s.size < edges[k + 1]) ++counts[k];
    }
  }
  const size_t most = *std::max_element(std::begin(counts), std::end(counts));
  std::printf("\n  %ss by %s (how many %ss in each size bucket)\n", tenant.c_str(), dimension.c_str(), tenant.c_str());
  for (int k = 0; k < 7; ++k) {
    const size_t bar = most == 0 ? 0 : (counts[k] * 40 + most - 1) / most;
    std::string bars;
    for (size_t i = 0; i < bar; ++i) bars += "█";
    std::printf("  %14s %s %zu\n", labels[k], bars.c_str(), counts[k]);
  }
}

// Where `cmake --install` (and the Debian package) put the example: <prefix>/share/strata/examples,
// found from the binary's own place, <prefix>/bin/strata.
std::string InstalledExample() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  return (self.parent_path().parent_path() / "share/strata/examples/admin-reports").string();
}

// The demo outside a clone (strata installed): the example is installed read-only, so say where it
// is and how to run the demo on a copy.
Status NoExampleHere(const DemoArgs& args, const Status& load_error) {
  const std::string installed = InstalledExample();
  if (installed.empty() || args.project != DemoArgs{}.project || std::filesystem::exists(args.project) ||
      !std::filesystem::exists(installed)) {
    return load_error;
  }
  return Status::Usage("there is no example project in " + args.project + " here. The installed one is in " +
                       installed + ": copy it somewhere writable and run the demo on the copy: cp -r " + installed +
                       " . && strata demo --project admin-reports");
}

// The gate, on the example's three rewrites of the report: the one that crawls for the heaviest
// admins, the one that is wrong for the unusual ones, and the benign one. Each must get the exit
// code the example expects.
int RunGates(const DemoArgs& args, const Project& project) {
  struct Gate {
    const char* candidate;
    const char* story;
    int expected;  // the exit code the gate must give
  } gates[] = {
      {"member_activity_subqueries",
       "a \"simpler\" rewrite with correlated subqueries: as fast as the original for typical admins", kExitFailure},
      {"member_activity_rewrite", "a \"faster\" rewrite that joins before summing: same rows on typical data",
       kExitFailure},
      {"member_activity_fast", "a benign rewrite that reads payments once", kExitOk},
  };
  for (const Gate& g : gates) {
    if (project.FindReport(g.candidate) == nullptr || project.FindReport("member_activity") == nullptr) continue;
    std::printf("\n== strata check %s --base-report member_activity\n   (%s)\n", g.candidate, g.story);
    std::fflush(stdout);
    CheckArgs c;
    c.project = args.project;
    c.reports = {g.candidate};
    c.base_report = "member_activity";
    c.repetitions = 3;
    c.max_tenants = 16;
    const int code = RunCheckCommand(c);
    if (code != kExitOk && code != kExitFailure) return code;
    std::printf("   -> exit %d: %s\n", code,
                code == g.expected
                    ? (code == kExitOk ? "passes, as it should" : "fails, as it should: it must not ship")
                    : "NOT what the example expects");
    if (code != g.expected) return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int RunDemo(const DemoArgs& args) {
  auto project = LoadProject(args.project);
  if (!project.ok()) return Fail(NoExampleHere(args, project.status()));
  const DatabaseChoice db = ChooseDatabase("", &*project);
  if (db.url.rfind("sqlite:", 0) == 0 && !std::filesystem::exists(db.url.substr(7))) {
    std::printf("== No example database yet: generating one (scale %g) into %s\n", args.scale, db.url.c_str());
    std::fflush(stdout);  // before the generator's own lines on stderr
    GenerateArgs g;
    g.project = args.project;
    g.scale = args.scale;
    if (int code = RunGenerate(g); code != kExitOk) return code;
  }
  auto source = OpenSource(db.url);
  if (!source.ok()) return Fail(source.status().WithContext("database from " + db.origin));
  if (!project->tenant_list) return Fail(Status::Config(project->config_path + ": the demo needs [tenant] list"));

  // Tenant sizes from the project's tenant list: the tenant, then size columns.
  std::vector<Column> columns;
  auto rows = Rows(**source, project->tenant_list->text, "the tenant list", &columns);
  if (!rows.ok()) return Fail(rows.status());
  if (columns.size() < 2 || rows->empty()) return Fail(Status::Config("the tenant list returns no sizes"));
  // The dimension shown: a size column named "orders" if there is one, else the last.
  size_t dim = columns.size() - 1;
  for (size_t c = 1; c < columns.size(); ++c) {
    if (columns[c].name == "orders") dim = c;
  }
  const std::string dimension = columns[dim].name;
  const std::string tenant = project->tenant_param.substr(0, project->tenant_param.find('_'));
  std::vector<TenantSize> sizes;
  for (const auto& r : *rows) sizes.push_back({r[0], std::atof(r[dim].c_str())});
  std::vector<TenantSize> sorted = sizes;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.size < b.size; });
  const TenantSize heaviest = sorted.back();
  const double median = sorted[sorted.size() / 2].size;
  const size_t empty =
      static_cast<size_t>(std::count_if(sorted.begin(), sorted.end(), [](const auto& s) { return s.size == 0; }));

  std::printf("\n== %zu %ss in %s\n", sizes.size(), tenant.c_str(), db.url.c_str());
  PrintHistogram(sizes, dimension, tenant);
  std::printf("\n  The heaviest, %s %s, has %s %s: %.0fx the median %s (%s). %zu have none.\n", tenant.c_str(),
              heaviest.tenant.c_str(), GroupThousands(static_cast<uint64_t>(heaviest.size)).c_str(), dimension.c_str(),
              median > 0 ? heaviest.size / median : 0.0, tenant.c_str(),
              GroupThousands(static_cast<uint64_t>(median)).c_str(), empty);

  // The unusual tenants, which typical test data does not have.
  auto unusual =
      Rows(**source, "select id, profile from admins where profile <> 'typical' order by id", "demo", nullptr);
  if (unusual.ok() && !unusual->empty()) {
    std::map<std::string, std::string> why;
    for (const auto& k : synth::TenantKinds()) why[k.name] = k.why;
    std::printf("\n  Unusual %ss, each in one dimension a report touches:\n", tenant.c_str());
    for (const auto& r : *unusual) std::printf("    %s %-4s %s\n", tenant.c_str(), r[0].c_str(), why[r[1]].c_str());
  }
  source->reset();

  // The export a heavy admin waits for.
  std::filesystem::create_directories("exports");
  const std::string report = project->FindReport("member_activity") ? "member_activity" : project->reports.front().name;
  std::printf("\n== Exporting %s for the heaviest %s (%s)\n", report.c_str(), tenant.c_str(), heaviest.tenant.c_str());
  std::fflush(stdout);
  ExportArgs e;
  e.project = args.project;
  e.report = report;
  e.params = {project->tenant_param + "=" + heaviest.tenant};
  e.output = "exports/" + report + "_" + heaviest.tenant + ".xlsx";
  if (int code = RunExport(e); code != kExitOk) return code;
  std::printf(
      "\n  Done: %s.\n  Its %s %s are %.0fx the median %s's: a change to this report must be tested on\n"
      "  tenants like %s %s and on the unusual ones above, not on typical data alone.\n",
      e.output.c_str(), GroupThousands(static_cast<uint64_t>(heaviest.size)).c_str(), dimension.c_str(),
      median > 0 ? heaviest.size / median : 0.0, tenant.c_str(), tenant.c_str(), heaviest.tenant.c_str());

  return RunGates(args, *project);
}

}  // namespace strata::cli
