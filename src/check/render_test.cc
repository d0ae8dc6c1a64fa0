#include "check/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "check/render_chart.h"
#include "check/render_format.h"
#include "check/runner.h"
#include "common/text.h"

namespace strata::check {
namespace {

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// A small well-formedness check for the XML the renderers write: balanced elements, double-quoted
// attributes without '<', no raw '>' in text, and only the five named entities or numeric character
// references. Returns the first problem, or "" when there is none.
std::string XmlProblem(std::string_view x) {
  auto at = [&](size_t k) { return k < x.size() ? x[k] : '\0'; };
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':';
  };
  auto reference_ok = [&](size_t amp) {
    const size_t semi = x.find(';', amp);
    if (semi == std::string_view::npos) return false;
    const std::string_view name = x.substr(amp + 1, semi - amp - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") return true;
    if (name.size() < 2 || name[0] != '#') return false;
    for (char c : name.substr(1)) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  };
  std::vector<std::string> open;
  size_t i = 0;
  if (x.starts_with("<?xml")) i = x.find("?>") == std::string_view::npos ? x.size() : x.find("?>") + 2;
  while (i < x.size()) {
    if (x[i] == '&' && !reference_ok(i)) return "bad reference at " + std::to_string(i);
    if (x[i] == '>') return "raw > at " + std::to_string(i);
    if (x[i] != '<') {
      ++i;
      continue;
    }
    size_t k = i + 1;
    const bool closing = at(k) == '/';
    if (closing) ++k;
    const size_t name_start = k;
    while (name_char(at(k))) ++k;
    const std::string name(x.substr(name_start, k - name_start));
    if (name.empty()) return "bad tag at " + std::to_string(i);
    for (;;) {
      while (at(k) == ' ' || at(k) == '\n') ++k;
      if (at(k) == '>') {
        if (!closing) {
          open.push_back(name);
        } else if (open.empty() || open.back() != name) {
          return "</" + name + "> does not close what is open";
        } else {
          open.pop_back();
        }
        ++k;
        break;
      }
      if (at(k) == '/' && at(k + 1) == '>' && !closing) {
        k += 2;
        break;
      }
      const size_t attribute = k;
      while (name_char(at(k))) ++k;
      if (k == attribute || closing || at(k) != '=' || at(k + 1) != '"') return "bad attribute in <" + name + ">";
      const size_t quote = x.find('"', k + 2);
      if (quote == std::string_view::npos) return "unterminated attribute in <" + name + ">";
      for (size_t c = k + 2; c < quote; ++c) {
        if (x[c] == '<') return "< in an attribute of <" + name + ">";
        if (x[c] == '&' && !reference_ok(c)) return "bad reference in an attribute of <" + name + ">";
      }
      k = quote + 1;
    }
    i = k;
  }
  return open.empty() ? "" : "<" + open.back() + "> is not closed";
}

// The centres of the base markers (circles) and candidate markers (squares), in SVG units.
std::vector<std::pair<double, double>> MarkerCentres(std::string_view svg) {
  std::vector<std::pair<double, double>> centres;
  auto number_after = [&](std::string_view key, size_t from) {
    return std::stod(std::string(svg.substr(svg.find(key, from) + key.size())));
  };
  for (std::string_view marker : {"\"pt base\"><circle", "\"pt candidate\"><rect"}) {
    const bool circle = marker.ends_with("circle");
    for (size_t at = svg.find(marker); at != std::string_view::npos; at = svg.find(marker, at + 1)) {
      if (circle) {
        centres.emplace_back(number_after("cx=\"", at), number_after("cy=\"", at));
      } else {
        centres.emplace_back(number_after(" x=\"", at) + 4, number_after(" y=\"", at) + 4);
      }
    }
  }
  return centres;
}

// Every marker lies inside the plot area (a NaN or infinite coordinate would not).
void ExpectMarkersInsidePlot(std::string_view svg) {
  for (const auto& [x, y] : MarkerCentres(svg)) {
    EXPECT_TRUE(x >= 80 && x <= 604 && y >= 44 && y <= 328) << x << "," << y;
  }
}

ParamValue Text(std::string text) {
  ParamValue v;
  v.text = std::move(text);
  return v;
}

VersionRuns Runs(int64_t rows, double median_ms, std::string plan) {
  VersionRuns v;
  v.rows = rows;
  v.ms = {median_ms * 0.9, median_ms, median_ms * 1.1};
  v.median_ms = median_ms;
  v.timeout_ms = 60000;
  v.plan = std::move(plan);
  v.plan_text = "Seq Scan on orders\n  Filter: (admin_id = $1)";
  return v;
}

TenantResult Tenant(std::string value, std::vector<double> sizes, Verdict verdict, double base_ms, double cand_ms) {
  TenantResult t;
  t.tenant.value = Text(std::move(value));
  t.tenant.sizes = std::move(sizes);
  t.tenant.why = {"largest by orders", "grown since the last ANALYZE of orders"};
  t.params = {{"admin_id", t.tenant.value}};
  t.execution = "simple";
  t.verdict = verdict;
  t.base = Runs(100, base_ms, "aaaaaaaaaaaa");
  t.candidate = Runs(100, cand_ms, "aaaaaaaaaaaa");
  t.ratio = base_ms > 0 ? cand_ms / base_ms : 0;
  return t;
}

CheckResult Sample() {
  ReportResult activity;
  activity.report = "member_activity";
  activity.verdict = Verdict::kTimeout;
  activity.dimensions = {"orders", "members"};
  activity.tenants_from = "profile of orders, members";
  activity.notes = {"orders has grown 40% since its last ANALYZE"};
  activity.tenants.push_back(Tenant("17", {0, 3}, Verdict::kPass, 0, 0));  // zero size and zero time
  TenantResult slower = Tenant("1764", {52000, 40}, Verdict::kSlower, 42.1, 134.72);
  slower.plan_changed = true;
  slower.candidate.plan = "bbbbbbbbbbbb";
  slower.candidate.generic_plan = true;
  slower.candidate.misestimates = {{"Hash Join", "public.orders", "o.admin_id = m.id", 10, 12000, 1200}};
  slower.explanation = "The candidate is 3.2x slower: its plan hashes all of orders.";
  TableHealth orders;
  orders.table = "public.orders";
  orders.live_rows = 1200000;
  orders.rows_at_analyze = 700000;
  orders.modified_since_analyze = 500000;
  orders.last_analyze = "2026-11-24 10:00:00";
  orders.tenant_column = "admin_id";
  orders.tenant_estimated_rows = 10;
  orders.tenant_actual_rows = 52000;
  orders.tenant_in_mcv = false;
  orders.stale = true;
  orders.reason = "modified 71% since ANALYZE";
  orders.analyze_sql = "ANALYZE public.orders;";
  slower.tables = {orders};
  activity.tenants.push_back(slower);
  TenantResult hostile = Tenant("<script>alert(1)</script>", {52000, 9}, Verdict::kTimeout, 90, 0);
  hostile.candidate.timed_out = true;
  hostile.candidate.timeout_ms = 900;
  hostile.candidate.ms.clear();
  hostile.ratio = 10;
  hostile.tenant.why = {"named with --tenants \"x\" & 'y'"};
  hostile.explanation = "Timed out after 900 ms <b>bold</b>";
  activity.tenants.push_back(hostile);
  TenantResult differs = Tenant("bad\xff\x01", {7, 1}, Verdict::kDifferentResults, 1.5, 1.6);
  differs.candidate.rows = 99;
  differs.explanation = "One row differs.";
  RowDiff diff;
  diff.columns = {"id", "name"};
  diff.only_in_base = 1;
  diff.only_in_candidate = 2;
  diff.base_rows = {{"1", "a<b\x02"}};
  diff.candidate_rows = {{"1", "a>b"}, {"2", "\xc3"}};
  differs.diff = diff;
  activity.tenants.push_back(differs);
  activity.base_plan_flips = {"tenant 17 → tenant 1764"};
  activity.tables = {orders};

  ReportResult totals;
  totals.report = "daily_totals";
  totals.verdict = Verdict::kError;
  totals.tenants_from = "tenants.sql";
  totals.tenants.push_back(Tenant("5", {}, Verdict::kPass, 3, 3));
  TenantResult broken = Tenant("6", {}, Verdict::kError, 3, 0);
  broken.candidate.rows = -1;
  broken.candidate.error = "syntax error at or near \"<\"";
  broken.candidate.ms.clear();
  broken.ratio = 0;
  totals.tenants.push_back(broken);

  CheckResult result;
  result.database = "postgresql://app@db/prod";
  result.dialect = Dialect::kPostgres;
  result.base_label = "origin/main";
  result.candidate_label = ".";
  result.pass = false;
  result.analyzed_first = true;
  result.analyzed_tables = {"public.orders"};
  result.reports = {activity, totals};
  result.cost = {12500, 11000, 64};
  return result;
}

std::string_view Svg(std::string_view html, size_t nth) {
  size_t start = 0;
  for (size_t i = 0; i <= nth; ++i) start = html.find("<svg", i == 0 ? 0 : start + 1);
  return html.substr(start, html.find("</svg>", start) + 6 - start);
}

TEST(RenderTextTest, SaysWhereTheTenantsCameFromInGoodEnglish) {
  const std::string text = RenderText(Sample());
  EXPECT_NE(text.find("(4 tenants: 1 named with --tenants, 3 picked from profile of orders, members)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("(2 tenants from tenants.sql)"), std::string::npos) << text;
  CheckResult one = Sample();
  one.reports.resize(1);
  one.reports[0].tenants.resize(1);
  EXPECT_NE(RenderText(one).find("(1 tenant from profile of orders, members)"), std::string::npos);
  one.reports[0].tenants[0].tenant.why = {"named with --tenants"};
  EXPECT_NE(RenderText(one).find("(1 tenant named with --tenants)"), std::string::npos) << RenderText(one);
}

TEST(ExplainTenantTest, SaysHowRowsWereComparedOrderedOrNot) {
  TenantResult t = Tenant("7", {10, 1}, Verdict::kDifferentResults, 1, 1);
  RowDiff diff;
  diff.only_in_base = 1;
  diff.only_in_candidate = 1;
  t.diff = diff;
  const std::string unordered = ExplainTenant(t, CheckSettings{}, "admin_id");
  EXPECT_NE(unordered.find("compared as multisets"), std::string::npos) << unordered;
  t.diff->ordered = true;
  const std::string ordered = ExplainTenant(t, CheckSettings{}, "admin_id");
  EXPECT_NE(ordered.find("compared in order"), std::string::npos) << ordered;
  EXPECT_EQ(ordered.find("multisets"), std::string::npos) << ordered;
}

TEST(RenderHtmlTest, ShowsVerdictsAndEscapesEverythingFromTheData) {
  const std::string html = RenderHtml(Sample());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("tenant &lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("Timed out after 900 ms &lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("named with --tenants &quot;x&quot; &amp; &apos;y&apos;"), std::string::npos);
  EXPECT_NE(html.find("bad\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(RepairUtf8(html), html);  // valid UTF-8 throughout
  for (char c : html) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r');

  EXPECT_NE(html.find(">FAIL<"), std::string::npos);
  for (const char* word : {"pass", "slower", "timeout", "different_results", "error"}) {
    EXPECT_NE(html.find(std::string(">") + word + "</span>"), std::string::npos) << word;
  }
  EXPECT_NE(html.find("3.20×"), std::string::npos);
  EXPECT_NE(html.find("≥ 10.00× (timed out)"), std::string::npos);
  EXPECT_NE(html.find("generic plan"), std::string::npos);
  EXPECT_NE(html.find("largest by orders; grown since the last ANALYZE of orders"), std::string::npos);
  EXPECT_NE(html.find("<th>name</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>a&lt;b</td>"), std::string::npos);
  EXPECT_NE(html.find("1 rows only in base, 2 rows only in candidate"), std::string::npos);
  EXPECT_NE(html.find("<code>ANALYZE public.orders;</code>"), std::string::npos);
  EXPECT_NE(html.find("syntax error at or near &quot;&lt;&quot;"), std::string::npos);
  EXPECT_NE(html.find("tenant 17 → tenant 1764"), std::string::npos);
  EXPECT_EQ(Count(html, "<details"), 6u);
}

TEST(RenderHtmlTest, ChartsEachReportWithBothSeriesAndTimeouts) {
  const std::string html = RenderHtml(Sample());
  ASSERT_EQ(Count(html, "<svg"), 2u);
  const std::string_view activity = Svg(html, 0), totals = Svg(html, 1);
  EXPECT_EQ(XmlProblem(activity), "");
  EXPECT_EQ(XmlProblem(totals), "");
  EXPECT_EQ(Count(activity, "class=\"pt base\""), 4u);
  EXPECT_EQ(Count(activity, "class=\"pt candidate\""), 3u);
  EXPECT_EQ(Count(activity, "class=\"pt timed-out\""), 1u);
  EXPECT_NE(activity.find(">orders (log)<"), std::string::npos);
  EXPECT_NE(activity.find("timed out (drawn at the timeout)"), std::string::npos);
  ExpectMarkersInsidePlot(activity);
  ExpectMarkersInsidePlot(totals);
  // No sizes: base rows + 1 on x; the failed candidate is not drawn.
  EXPECT_NE(totals.find(">base rows + 1 (log)<"), std::string::npos);
  EXPECT_EQ(Count(totals, "class=\"pt base\""), 2u);
  EXPECT_EQ(Count(totals, "class=\"pt candidate\""), 1u);
}

TEST(RenderHtmlTest, ChartsOneTenantAndEqualSizes) {
  ReportResult report;
  report.dimensions = {"orders"};
  report.tenants.push_back(Tenant("1", {5}, Verdict::kPass, 0, 0));
  for (size_t n : {1u, 3u}) {
    while (report.tenants.size() < n) report.tenants.push_back(Tenant("x", {5}, Verdict::kPass, 2, 2));
    const std::string svg = RenderTimeChart(report);
    EXPECT_EQ(XmlProblem(svg), "");
    EXPECT_EQ(Count(svg, "class=\"pt base\""), n);
    EXPECT_EQ(MarkerCentres(svg).size(), 2 * n);
    ExpectMarkersInsidePlot(svg);
  }
  report.tenants.push_back(Tenant("y", {}, Verdict::kPass, 2, 2));
  EXPECT_NE(RenderTimeChart(report).find("1 tenant(s) without a size are not drawn"), std::string::npos);
}

TEST(RenderJunitTest, OneCasePerTenantWithFailuresAndErrors) {
  const std::string xml = RenderJunit(Sample());
  EXPECT_EQ(XmlProblem(xml), "");
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_EQ(RepairUtf8(xml), xml);
  for (char c : xml) {
    const auto b = static_cast<unsigned char>(c);
    EXPECT_FALSE((b < 0x20 && c != '\n') || b == 0xFF) << static_cast<int>(b);
  }
  EXPECT_EQ(Count(xml, "<testsuite "), 2u);
  EXPECT_EQ(Count(xml, "<testcase "), 6u);
  EXPECT_EQ(Count(xml, "<failure "), 3u);
  EXPECT_EQ(Count(xml, "<error "), 1u);
  EXPECT_NE(xml.find("<testsuites name=\"strata check\" tests=\"6\" failures=\"3\" errors=\"1\" time=\"12.500\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"daily_totals\" tests=\"2\" failures=\"0\" errors=\"1\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"tenant &lt;script&gt;alert(1)&lt;/script&gt; (simple)\" "
                     "classname=\"strata.check.member_activity\""),
            std::string::npos);
  EXPECT_NE(xml.find("name=\"tenant bad\xEF\xBF\xBD (simple)\""), std::string::npos);
  EXPECT_NE(xml.find("<failure type=\"slower\" message=\"The candidate is 3.2x slower"), std::string::npos);
  EXPECT_NE(xml.find("<failure type=\"timeout\""), std::string::npos);
  EXPECT_NE(xml.find("<failure type=\"different_results\""), std::string::npos);
  EXPECT_NE(xml.find("<error type=\"error\""), std::string::npos);
  EXPECT_NE(xml.find("base: median 42.100 ms over 3 runs, rows 100, plan aaaaaaaaaaaa"), std::string::npos);
  EXPECT_NE(xml.find("candidate: median 134.720 ms over 3 runs, rows 100, plan bbbbbbbbbbbb (generic plan)"),
            std::string::npos);
}

TEST(RenderJunitTest, DropsWhatXmlCannotCarry) {
  CheckResult result;
  ReportResult report;
  report.report = "r\x01\x0b";
  report.tenants.push_back(Tenant("\xef\xbf\xbe\xef\xbf\xbfok\x7f\r", {}, Verdict::kPass, 1, 1));
  result.reports = {report};
  const std::string xml = RenderJunit(result);
  EXPECT_EQ(XmlProblem(xml), "");
  EXPECT_NE(xml.find("<testsuite name=\"r\""), std::string::npos);
  EXPECT_NE(xml.find("name=\"tenant ok\x7f&#13; (simple)\""), std::string::npos);
}

// The lines of a Markdown document that are table rows ("| ... |").
std::vector<std::string> TableRows(std::string_view md) {
  std::vector<std::string> rows;
  size_t start = 0;
  while (start < md.size()) {
    const size_t end = std::min(md.find('\n', start), md.size());
    const std::string_view line = md.substr(start, end - start);
    if (line.starts_with("| ")) rows.emplace_back(line);
    start = end + 1;
  }
  return rows;
}

// The cells of a table row, split at the pipes that are not escaped (as GitHub splits them).
std::vector<std::string> Cells(std::string_view row) {
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 1; i < row.size(); ++i) {
    if (row[i] == '\\' && i + 1 < row.size()) {
      cell += row.substr(i, 2);
      ++i;
    } else if (row[i] == '|') {
      cells.push_back(cell.substr(cell.find_first_not_of(' ') == std::string::npos ? 0 : 1));
      cell.clear();
    } else {
      cell += row[i];
    }
  }
  for (std::string& c : cells) {
    while (!c.empty() && c.back() == ' ') c.pop_back();
  }
  return cells;
}

// The parts of a Markdown document where GitHub reads Markdown: without the content of fenced code
// blocks (shown verbatim) and without the <summary> lines (HTML).
std::string MarkdownRead(std::string_view md) {
  std::string out, fence;
  size_t start = 0;
  while (start < md.size()) {
    const size_t end = std::min(md.find('\n', start), md.size());
    const std::string_view line = md.substr(start, end - start);
    start = end + 1;
    const size_t ticks =
        line.find_first_not_of('`') == std::string_view::npos ? line.size() : line.find_first_not_of('`');
    if (fence.empty() && ticks >= 3) {
      fence = line.substr(0, ticks);
    } else if (!fence.empty() && line == fence) {
      fence.clear();
    } else if (fence.empty() && !line.starts_with("<details><summary>")) {
      out += std::string(line) + "\n";
    }
  }
  return out;
}

CheckResult Passing() {
  ReportResult report;
  report.report = "member_activity_fast";
  report.base_report = "member_activity";
  report.tenants_from = "tenants.sql";
  report.tenants_total = 2;
  report.results_compared = 2;
  report.tenants.push_back(Tenant("17", {3}, Verdict::kPass, 12, 6));
  report.tenants.push_back(Tenant("1764", {52000}, Verdict::kPass, 42.1, 40));
  report.tenants[1].explanation = "A misestimate on orders, in both versions.";
  CheckResult result;
  result.database = "sqlite:demo.db";
  result.base_label = ".";
  result.candidate_label = ".";
  result.reports = {report};
  result.cost = {1000, 900, 20};
  return result;
}

TEST(RenderMarkdownTest, APassingCheckSaysPassAndListsEveryTenant) {
  const std::string md = RenderMarkdown(Passing());
  EXPECT_TRUE(md.starts_with("**PASS**: 1 report(s) checked, 0 failed, on sqlite:demo.db\n")) << md;
  EXPECT_NE(md.find("20 executions, 1,000 ms in all, of which Strata's own work 100.0 ms (10.0%)"), std::string::npos);
  EXPECT_NE(md.find("### member_activity_fast against member_activity: **PASS**"), std::string::npos) << md;
  EXPECT_NE(md.find("2 tenants from tenants.sql; results compared for 2 of 2 tenants"), std::string::npos) << md;
  EXPECT_EQ(md.find("**FAIL**"), std::string::npos);
  EXPECT_EQ(md.find("####"), std::string::npos);  // no failure sections
  const std::vector<std::string> rows = TableRows(md);
  ASSERT_GE(rows.size(), 4u) << md;
  EXPECT_EQ(Cells(rows[0]), (std::vector<std::string>{"tenant", "why picked", "rows", "base ms", "candidate ms",
                                                      "ratio", "plan changed", "verdict"}));
  EXPECT_EQ(Cells(rows[2]),
            (std::vector<std::string>{"17 (simple)", "largest by orders; grown since the last ANALYZE of orders", "100",
                                      "12.0", "6.00", "0.50×", "no", "pass"}));
  EXPECT_EQ(Cells(rows[3])[0], "1764 (simple)");
  // The details: collapsed, with the plan of both versions and the passing tenant's note.
  const size_t details = md.find("<details><summary>Details of member_activity_fast: the plans of 2 tenant(s)");
  ASSERT_NE(details, std::string::npos) << md;
  EXPECT_NE(md.find("```text\nSeq Scan on orders\n  Filter: (admin_id = $1)\n```\n", details), std::string::npos) << md;
  EXPECT_NE(md.find("**tenant 1764 (simple)**, pass: same plan, aaaaaaaaaaaa.\n\nA misestimate on orders, in both "
                    "versions.\n\nThe same plans as tenant 17 (simple).\n\n",
                    details),
            std::string::npos)
      << md;
  EXPECT_EQ(Count(md, "Seq Scan on orders"), 1u);
  EXPECT_EQ(Count(md, "<details>"), 1u);
  EXPECT_TRUE(md.ends_with("</details>\n\n"));

  CheckResult nothing = Passing();
  nothing.reports.clear();
  const std::string none = RenderMarkdown(nothing);
  EXPECT_TRUE(none.starts_with("**PASS**: 0 report(s) checked, 0 failed")) << none;
  EXPECT_NE(none.find("No report changed between the base and the candidate: nothing to check."), std::string::npos);
}

TEST(RenderMarkdownTest, AFailingCheckShowsEachFailureWithItsRowsAndNotes) {
  const std::string md = RenderMarkdown(Sample());
  EXPECT_TRUE(
      md.starts_with("**FAIL**: 2 report(s) checked, 2 failed, on postgresql\\://app@\u2060db/prod (statistics "
                     "refreshed first: ANALYZE public.orders)\n"))
      << md;
  EXPECT_NE(md.find("### member_activity: **FAIL**"), std::string::npos);
  EXPECT_NE(md.find("### daily_totals: **FAIL**"), std::string::npos);
  EXPECT_NE(md.find("4 tenants: 1 named with --tenants, 3 picked from profile of orders, members; results compared"),
            std::string::npos);
  // The summary table: one row per tenant, failures in bold.
  EXPECT_NE(md.find("| 1764 (simple) | largest by orders; grown since the last ANALYZE of orders | 100 | 42.1 | "
                    "134.7 | 3.20× | **yes**, generic | **SLOWER** |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| ≥ 900.0 | ≥ 10.00× (timed out) | no | **TIMEOUT** |"), std::string::npos) << md;
  // One section per failing tenant, in the order of the table.
  const size_t slower = md.find("#### **SLOWER**, tenant 1764 (simple)\n\nThe candidate is 3.2x slower");
  const size_t timeout = md.find("#### **TIMEOUT**, tenant &lt;script&gt;alert(1)&lt;/script&gt; (simple)");
  const size_t differs = md.find("#### **DIFFERENT RESULTS**, tenant bad\xEF\xBF\xBD (simple)");
  const size_t error =
      md.find("#### **ERROR**, tenant 6 (simple)\n\nCandidate error: syntax error at or near \"&lt;\"");
  ASSERT_TRUE(slower != std::string::npos && timeout != std::string::npos && differs != std::string::npos &&
              error != std::string::npos)
      << md;
  EXPECT_TRUE(slower < timeout && timeout < differs && differs < error);
  // The slower tenant's notes: the misestimate, and the stale table with the ANALYZE to run.
  EXPECT_NE(md.find("- candidate: Hash Join on public.orders (o.admin_id = m.id): estimated 10 rows, actual 12,000, "
                    "q-error 1,200",
                    slower),
            std::string::npos);
  EXPECT_NE(md.find("- public.orders: modified 71% since ANALYZE\n", slower), std::string::npos);
  EXPECT_NE(md.find("```sql\nANALYZE public.orders;\n```", slower), std::string::npos);
  // The first differing rows, as a table under the columns' names.
  EXPECT_NE(md.find("1 rows only in base, 2 rows only in candidate; the first of each:\n\n|  | id | name |\n"
                    "| --- | --- | --- |\n| only in base | 1 | a&lt;b |\n| only in candidate | 1 | a&gt;b |\n"
                    "| only in candidate | 2 | \xEF\xBF\xBD |\n",
                    differs),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("The base plan changes shape between:\n\n- tenant 17 → tenant 1764\n"), std::string::npos);
  EXPECT_NE(md.find("Notes:\n\n- orders has grown 40% since its last ANALYZE\n"), std::string::npos);
  // Per report, the details are collapsed below its section, and the failures' plans differ.
  EXPECT_EQ(Count(md, "<details><summary>"), 2u);
  EXPECT_EQ(Count(md, "</details>"), 2u);
  const size_t details = md.find("<details><summary>Details of member_activity:");
  EXPECT_TRUE(details > error || details < md.find("### daily_totals"));
  EXPECT_NE(md.find("Candidate plan (generic):\n\n```text\n", details), std::string::npos);
  EXPECT_NE(md.find("Statistics of the tables read:", details), std::string::npos);
  EXPECT_EQ(RepairUtf8(md), md);
}

TEST(RenderMarkdownTest, NothingFromTheDataBecomesMarkupOrHtml) {
  CheckResult result = Passing();
  const std::string hostile = "a|b</details><script>`x`\n# *y* _z_ [l](u) ~s~ $m$ \\";
  ReportResult& report = result.reports[0];
  report.report = hostile;
  report.notes = {"- 1. " + hostile};
  TenantResult& t = report.tenants[0];
  t.tenant.value = Text(hostile);
  t.verdict = Verdict::kDifferentResults;
  t.explanation = hostile;
  t.base.plan_text = "```\n</details>\n````";
  RowDiff diff;
  diff.columns = {hostile};
  diff.base_rows = {{hostile}};
  t.diff = diff;
  report.verdict = Verdict::kDifferentResults;
  result.pass = false;
  const std::string md = RenderMarkdown(result);
  const std::string escaped =
      "a\\|b&lt;/details&gt;&lt;script&gt;\\`x\\` \\# \\*y\\* \\_z\\_ \\[l\\](u) \\~s\\~ \\$m\\$ \\\\";
  EXPECT_NE(md.find("### " + escaped + " against member_activity: **FAIL**"), std::string::npos) << md;
  EXPECT_NE(md.find("| " + escaped + " (simple) |"), std::string::npos) << md;
  EXPECT_NE(md.find("|  | " + escaped + " |\n| --- | --- |\n| only in base | " + escaped + " |\n"), std::string::npos);
  EXPECT_NE(md.find("- \\- 1. " + escaped + "\n"), std::string::npos) << md;
  // Where Markdown is read, nothing of the data is raw; only Strata's own </details> closes the block.
  const std::string markdown = MarkdownRead(md);
  EXPECT_EQ(markdown.find("<script"), std::string::npos);
  EXPECT_EQ(markdown.find("a|b"), std::string::npos);
  EXPECT_EQ(markdown.find('`' + std::string("x`")), std::string::npos);
  EXPECT_EQ(Count(markdown, "</details>"), 1u);
  EXPECT_TRUE(markdown.ends_with("</details>\n\n"));
  // The summary is HTML, where Markdown is not read: it is escaped as HTML, on one line.
  EXPECT_NE(md.find("<details><summary>Details of a|b&lt;/details&gt;&lt;script&gt;`x` # *y* _z_ [l](u) ~s~ $m$ "
                    "\\: the plans of 2 tenant(s), notes and statistics</summary>\n\n"),
            std::string::npos)
      << md;
  // A plan holding backticks gets a longer fence, so it cannot end its block early.
  EXPECT_NE(md.find("Base plan:\n\n`````text\n```\n</details>\n````\n`````\n"), std::string::npos) << md;
  // Every table row has as many cells as its header.
  for (const std::string& row : TableRows(md)) {
    const size_t cells = Cells(row).size();
    EXPECT_TRUE(cells == 8 || cells == 2) << row;
  }
}

TEST(RenderFormatTest, EscapesMarkdownTextAndCodeBlocks) {
  EXPECT_EQ(EscapeMarkdown("member_activity admin_id"), "member_activity admin_id");
  EXPECT_EQ(EscapeMarkdown("_x_ a_ _b __init__"), "\\_x\\_ a\\_ \\_b \\_\\_init\\_\\_");
  EXPECT_EQ(EscapeMarkdown("  two\nlines\r\tand\x01 more  "), "two lines  and  more");
  EXPECT_EQ(EscapeMarkdown("- x"), "\\- x");
  EXPECT_EQ(EscapeMarkdown("12. x"), "12\\. x");
  EXPECT_EQ(EscapeMarkdown("12 x. 3"), "12 x. 3");
  EXPECT_EQ(EscapeMarkdown("19440.75"), "19440.75");
  EXPECT_EQ(EscapeMarkdown("7)"), "7\\)");
  EXPECT_EQ(EscapeMarkdown("---"), "\\---");
  EXPECT_EQ(EscapeMarkdown("see https://x.example or WWW.x.example"), "see https\\://x.example or WWW\\.x.example");
  EXPECT_EQ(EscapeMarkdown("+"), "\\+");
  EXPECT_EQ(EscapeMarkdown("bad\xff"), "bad\xEF\xBF\xBD");
  EXPECT_EQ(EscapeMarkdown("&amp; <!-- -->"), "&amp;amp; &lt;!-- --&gt;");
  // No mention, no e-mail link, no emoji; a time of day keeps its colons as they are.
  EXPECT_EQ(EscapeMarkdown("@org/team a@b.example"), "@\u2060org/team a@\u2060b.example");
  EXPECT_EQ(EscapeMarkdown(":+1: at 10:30"), ":\u2060+1: at 10:30");
  EXPECT_EQ(MarkdownCodeBlock("a\r\nb", "sql"), "```sql\na\nb\n```\n\n");
  EXPECT_EQ(MarkdownCodeBlock("x ``` y `` z\x01", "text"), "````text\nx ``` y `` z\n````\n\n");
  EXPECT_EQ(MarkdownCodeBlock("", "text"), "```text\n```\n\n");
}

TEST(RenderMarkdownTest, NumbersTheColumnsOfRowsWithoutNames) {
  CheckResult result = Sample();
  result.reports[0].tenants[3].diff->columns.clear();
  const std::string md = RenderMarkdown(result);
  EXPECT_NE(md.find("|  | column 1 | column 2 |\n| --- | --- | --- |\n| only in base | 1 | a&lt;b |\n"),
            std::string::npos)
      << md;
}

// A result whose Markdown is far longer than a comment may be: many tenants with long plans, or
// (too_many_failures) so many failing tenants that even the sections do not fit.
CheckResult Huge(bool too_many_failures, int tenants = 30, size_t plan_bytes = 5000) {
  CheckResult result = Passing();
  ReportResult& report = result.reports[0];
  for (int i = 0; i < tenants; ++i) {
    TenantResult t = Tenant(std::to_string(1000 + i), {1}, Verdict::kPass, 1, 1);
    t.base.plan_text = std::string(plan_bytes, 'b') + std::to_string(i);  // plans shown once each
    t.candidate.plan_text = std::string(plan_bytes, 'c') + std::to_string(i);
    if (too_many_failures) {
      t.verdict = Verdict::kSlower;
      t.explanation = std::string(3000, 'e');
    }
    report.tenants.push_back(t);
  }
  result.reports.push_back(result.reports[0]);
  result.reports[1].report = "second_report";
  result.pass = !too_many_failures;
  return result;
}

TEST(RenderMarkdownTest, StaysWithinACommentCuttingTheDetailsFirst) {
  const std::string md = RenderMarkdown(Huge(false));
  EXPECT_LE(md.size(), kMarkdownMaxBytes);
  EXPECT_GT(md.size(), kMarkdownMaxBytes - 20000);  // it fills the room it has
  EXPECT_TRUE(md.starts_with("**PASS**"));
  // Both reports' sections are whole; the details are cut and a line says so.
  EXPECT_NE(md.find("### member_activity_fast against member_activity: **PASS**"), std::string::npos);
  EXPECT_NE(md.find("### second_report against member_activity: **PASS**"), std::string::npos);
  EXPECT_NE(md.find("| 1029 (simple) |", md.find("### second_report")), std::string::npos);
  EXPECT_NE(md.find("more part(s) of these details are left out, to keep this comment within GitHub's 65,536 "
                    "characters; the `--html` and `--json` outputs have everything."),
            std::string::npos)
      << md.substr(md.size() - 2000);
  EXPECT_EQ(Count(md, "<details>"), Count(md, "</details>"));
  EXPECT_EQ(Count(md, "```") % 2, 0u);  // no code block left open
}

TEST(RenderMarkdownTest, NeverLongerThanACommentWhateverTheSizes) {
  for (const bool failing : {false, true}) {
    for (const int tenants : {0, 1, 3, 8, 20, 60}) {
      for (const size_t plan_bytes : {10u, 3000u, 20000u}) {
        const std::string md = RenderMarkdown(Huge(failing, tenants, plan_bytes));
        SCOPED_TRACE(std::to_string(tenants) + " tenants, plans of " + std::to_string(plan_bytes) + " bytes");
        EXPECT_LE(md.size(), kMarkdownMaxBytes);
        EXPECT_TRUE(md.starts_with(failing ? "**FAIL**: 2 report(s)" : "**PASS**: 2 report(s)"));
        EXPECT_EQ(Count(md, "<details>"), Count(md, "</details>"));
        EXPECT_EQ(Count(md, "```") % 2, 0u);
        EXPECT_EQ(RepairUtf8(md), md);
      }
    }
  }
}

TEST(RenderMarkdownTest, CutsTheSectionsWhenTheirsAloneAreTooLong) {
  const std::string md = RenderMarkdown(Huge(true));
  EXPECT_LE(md.size(), kMarkdownMaxBytes);
  EXPECT_TRUE(md.starts_with("**FAIL**"));
  EXPECT_EQ(md.find("<details>"), std::string::npos);
  EXPECT_TRUE(
      md.ends_with("_The rest of this verdict is left out, the details of every report too, to keep this "
                   "comment within GitHub's 65,536 characters; the `--html` and `--json` outputs have "
                   "everything._\n\n"))
      << md.substr(md.size() - 1000);
  EXPECT_EQ(Count(md, "```") % 2, 0u);
}

}  // namespace
}  // namespace strata::check
