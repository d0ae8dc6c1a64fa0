#include "check/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "check/render_chart.h"
#include "check/render_format.h"
#include "check/render_test_data.h"
#include "check/runner.h"
#include "common/text.h"

namespace strata::check {
namespace {

using namespace testdata;

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
}  // namespace
}  // namespace strata::check
