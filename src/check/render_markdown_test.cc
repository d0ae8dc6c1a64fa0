// The Markdown verdict (RenderMarkdown) and its escaping (render_format.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "check/render.h"
#include "check/render_format.h"
#include "check/render_test_data.h"
#include "common/text.h"

namespace strata::check {
namespace {

using namespace testdata;

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
