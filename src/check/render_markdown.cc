// The verdict as GitHub-flavoured Markdown, for a comment on the pull request that changed a report.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "check/render.h"
#include "check/render_format.h"
#include "common/text.h"

namespace strata::check {

namespace {

// Bytes of one piece of data as shown: a table cell, a paragraph, a plan. Longer ones end in "…",
// so that one value cannot take the whole comment.
constexpr size_t kCellBytes = 300;
constexpr size_t kTextBytes = 4000;
constexpr size_t kPlanBytes = 16000;
// Room kept for the line that says what was cut (it holds no data, so it is short).
constexpr size_t kNoteBytes = 250;

// s repaired and cut to at most max_bytes, at a character boundary.
std::string Clip(std::string_view s, size_t max_bytes) {
  std::string text = RepairUtf8(s);
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes - 3;  // room for "…"
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text + "…";
}

// Untrusted text as Markdown.
std::string Md(std::string_view s, size_t max_bytes = kTextBytes) {
  return EscapeMarkdown(Clip(s, max_bytes));
}

std::string Joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string s;
  for (const std::string& item : items) s += (s.empty() ? "" : std::string(separator)) + item;
  return s;
}

// "SLOWER", "DIFFERENT RESULTS": the verdict word as the terminal shows a failure.
std::string Shout(Verdict verdict) {
  std::string word = VerdictName(verdict);
  for (char& c : word) c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "**" + word + "**";
}

std::string TenantName(const TenantResult& t) {
  return "tenant " + Md(t.tenant.value.text, kCellBytes) + " (" + Md(t.execution, kCellBytes) + ")";
}

std::string PassFail(bool pass) {
  return pass ? "**PASS**" : "**FAIL**";
}

// A table whose cells are already Markdown; numeric columns are right-aligned.
std::string Table(const std::vector<std::string>& head, const std::vector<bool>& numeric,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "|";
  for (const std::string& h : head) out += " " + h + " |";
  out += "\n|";
  for (size_t c = 0; c < head.size(); ++c) out += c < numeric.size() && numeric[c] ? " --: |" : " --- |";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (size_t c = 0; c < head.size(); ++c) out += " " + (c < row.size() ? row[c] : std::string()) + " |";
    out += "\n";
  }
  return out + "\n";
}

std::string Head(const CheckResult& result) {
  size_t failed = 0;
  for (const ReportResult& r : result.reports) failed += r.verdict != Verdict::kPass;
  std::string out = PassFail(result.pass) + ": " + std::to_string(result.reports.size()) + " report(s) checked, " +
                    std::to_string(failed) + " failed, on " + Md(result.database, kCellBytes);
  if (result.analyzed_first) {
    out += " (statistics refreshed first: ANALYZE " + Md(Joined(result.analyzed_tables, ", "), kCellBytes) + ")";
  }
  out += "\n\nBase " + Md(result.base_label, kCellBytes) + ", candidate " + Md(result.candidate_label, kCellBytes);
  const double overhead = result.cost.wall_ms - result.cost.query_ms;
  out += "; " + std::to_string(result.cost.executions) + " executions, " + FormatMs(result.cost.wall_ms) +
         " ms in all, of which Strata's own work " + FormatMs(overhead) + " ms (" +
         FormatFixed(result.cost.wall_ms > 0 ? 100 * overhead / result.cost.wall_ms : 0, 1) + "%).\n\n";
  if (result.reports.empty()) out += "No report changed between the base and the candidate: nothing to check.\n\n";
  return out;
}

std::vector<std::string> TenantRow(const TenantResult& t) {
  std::string rows = FormatCount(t.base.rows);
  if (t.candidate.rows != t.base.rows && t.candidate.rows >= 0) rows += " / " + FormatCount(t.candidate.rows);
  std::string plan = t.plan_changed ? "**yes**" : "no";
  if (t.base.plan.empty() || t.candidate.plan.empty()) plan = "?";
  if (t.candidate.generic_plan && !t.base.generic_plan) plan += ", generic";
  return {Md(t.tenant.value.text, kCellBytes) + " (" + Md(t.execution, kCellBytes) + ")",
          Md(Joined(t.tenant.why, "; "), kCellBytes),
          rows,
          FormatMs(t.base.median_ms),
          t.candidate.timed_out ? "≥ " + FormatMs(t.candidate.timeout_ms) : FormatMs(t.candidate.median_ms),
          FormatRatio(t),
          plan,
          t.verdict == Verdict::kPass ? "pass" : Shout(t.verdict)};
}

std::string TenantTable(const ReportResult& report) {
  std::vector<std::vector<std::string>> rows;
  for (const TenantResult& t : report.tenants) rows.push_back(TenantRow(t));
  return Table({"tenant", "why picked", "rows", "base ms", "candidate ms", "ratio", "plan changed", "verdict"},
               {false, false, true, true, true, true, false, false}, rows);
}

using Rows = std::vector<std::vector<std::string>>;

// Appends rows to cells as Markdown, each led by the side it is from.
void AddRows(std::string_view side, const Rows& rows, Rows* cells) {
  for (const auto& row : rows) {
    cells->push_back({std::string(side)});
    for (const std::string& cell : row) cells->back().push_back(Md(cell, kCellBytes));
  }
}

std::string RowsTable(const std::vector<std::string>& columns, const Rows& cells) {
  if (cells.empty()) return "";
  size_t width = columns.size();
  for (const auto& row : cells) width = std::max(width, row.size() - 1);
  std::vector<std::string> head = {""};
  for (size_t c = 0; c < width; ++c) {
    head.push_back(c < columns.size() ? Md(columns[c], kCellBytes) : "column " + std::to_string(c + 1));
  }
  return Table(head, {}, cells);
}

// The first differing rows: one table when both versions have the same columns, else one a side.
std::string DiffBlock(const RowDiff& d) {
  const std::vector<std::string>& candidate_columns = d.candidate_columns.empty() ? d.columns : d.candidate_columns;
  std::string base_side = "only in base", candidate_side = "only in candidate";
  std::string out;
  if (d.order_only) {
    const std::string row = std::to_string(d.first_order_difference + 1);
    out = "Same rows, different order from row " + row + " (counting from 1):\n\n";
    base_side = "base, from row " + row;
    candidate_side = "candidate, from row " + row;
  } else {
    out = FormatCount(d.only_in_base) + " rows only in base, " + FormatCount(d.only_in_candidate) +
          " rows only in candidate; the first of each:\n\n";
  }
  Rows base, candidate;
  AddRows(base_side, d.base_rows, &base);
  AddRows(candidate_side, d.candidate_rows, &candidate);
  if (candidate_columns != d.columns) {
    return out + "The versions return different columns.\n\n" + RowsTable(d.columns, base) +
           RowsTable(candidate_columns, candidate);
  }
  base.insert(base.end(), candidate.begin(), candidate.end());
  return out + RowsTable(d.columns, base);
}

std::string MisestimateItems(std::string_view side, const VersionRuns& v) {
  std::string out;
  for (const Misestimate& m : v.misestimates) {
    out += "- " + std::string(side) + ": " + Md(m.node, kCellBytes);
    if (!m.table.empty()) out += " on " + Md(m.table, kCellBytes);
    if (!m.condition.empty()) out += " (" + Md(m.condition, kCellBytes) + ")";
    out += ": estimated " + FormatCount(m.estimated_rows) + " rows, actual " + FormatCount(m.actual_rows) +
           ", q-error " + FormatCount(m.q_error) + "\n";
  }
  return out;
}

std::string MisestimatesBlock(const TenantResult& t) {
  const std::string items = MisestimateItems("base", t.base) + MisestimateItems("candidate", t.candidate);
  return items.empty() ? "" : "Estimates off by 10× or more:\n\n" + items + "\n";
}

// The stale tables among those the plans read, and the ANALYZE to run for them.
std::string StaleBlock(const std::vector<TableHealth>& tables) {
  std::string items, sql;
  for (const TableHealth& h : tables) {
    if (!h.stale) continue;
    items += "- " + Md(h.table, kCellBytes) + ": " + Md(h.reason.empty() ? "stale" : h.reason, kCellBytes) + "\n";
    if (!h.analyze_sql.empty()) sql += Clip(h.analyze_sql, kCellBytes) + "\n";
  }
  if (items.empty()) return "";
  std::string out = "Stale statistics:\n\n" + items + "\n";
  if (!sql.empty()) out += "The ANALYZE to run:\n\n" + MarkdownCodeBlock(sql, "sql");
  return out;
}

std::string ErrorsBlock(const TenantResult& t) {
  std::string out;
  if (!t.base.error.empty()) out += "Base error: " + Md(t.base.error) + "\n\n";
  if (!t.candidate.error.empty()) out += "Candidate error: " + Md(t.candidate.error) + "\n\n";
  return out;
}

// A failing tenant's section: what failed and why, its rows, its plans' misestimates and statistics.
void AppendFailure(const TenantResult& t, std::vector<std::string>* blocks) {
  blocks->push_back("#### " + Shout(t.verdict) + ", " + TenantName(t) + "\n\n");
  if (!t.explanation.empty()) blocks->push_back(Md(t.explanation) + "\n\n");
  blocks->push_back(ErrorsBlock(t));
  if (t.diff) blocks->push_back(DiffBlock(*t.diff));
  blocks->push_back(MisestimatesBlock(t));
  blocks->push_back(StaleBlock(t.tables));
}

std::string ListBlock(std::string_view title, const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string out = std::string(title) + "\n\n";
  for (const std::string& item : items) out += "- " + Md(item, kCellBytes) + "\n";
  return out + "\n";
}

// The report's section above its details: verdict, coverage, tenants, failures, flips and notes.
std::vector<std::string> MainBlocks(const ReportResult& r) {
  std::string heading = "### " + Md(r.report, kCellBytes);
  if (!r.base_report.empty()) heading += " against " + Md(r.base_report, kCellBytes);
  std::vector<std::string> blocks = {heading + ": " + PassFail(r.verdict == Verdict::kPass) + "\n\n" +
                                     Md(TenantsLine(r)) + "; " + Md(Coverage(r)) + ".\n\n"};
  if (!r.error.empty()) blocks.push_back("**Error:** " + Md(r.error) + "\n\n");
  blocks.push_back(TenantTable(r));
  for (const TenantResult& t : r.tenants) {
    if (t.verdict != Verdict::kPass) AppendFailure(t, &blocks);
  }
  blocks.push_back(ListBlock("The base plan changes shape between:", r.base_plan_flips));
  blocks.push_back(ListBlock("The candidate plan changes shape between:", r.candidate_plan_flips));
  blocks.push_back(ListBlock("Notes:", r.notes));
  std::erase(blocks, std::string());
  return blocks;
}

std::string PlanCode(const std::string& plan_text) {
  return MarkdownCodeBlock(plan_text.empty() ? "(no plan)" : Clip(plan_text, kPlanBytes), "text");
}

std::string Fingerprint(const VersionRuns& v) {
  return v.plan.empty() ? "unknown" : Md(v.plan, kCellBytes);
}

// A tenant's head in the details: its plans' fingerprints, and for a passing tenant the notes on it
// (a failing one's are in its section above).
std::string TenantNotes(const TenantResult& t) {
  std::string head = "**" + TenantName(t) + "**, " + (t.verdict == Verdict::kPass ? "pass" : Shout(t.verdict)) + ": ";
  head += t.plan_changed ? "plan changed, " + Fingerprint(t.base) + " → " + Fingerprint(t.candidate)
                         : "same plan, " + Fingerprint(t.base);
  head += ".\n\n";
  if (t.verdict == Verdict::kPass) {
    if (!t.explanation.empty()) head += Md(t.explanation) + "\n\n";
    head += MisestimatesBlock(t) + StaleBlock(t.tables);
  }
  return head;
}

// The first tenant shown with each pair of plans: most tenants share their plans with another one,
// which is named instead of showing the same plans again.
using ShownPlans = std::map<std::tuple<std::string, bool, std::string, bool>, std::string>;

void AppendTenantDetails(const TenantResult& t, ShownPlans* shown, std::vector<std::string>* blocks) {
  blocks->push_back(TenantNotes(t));
  const auto [first, added] =
      shown->emplace(std::tuple(t.base.plan_text, t.base.generic_plan, t.candidate.plan_text, t.candidate.generic_plan),
                     TenantName(t));
  if (!added) {
    blocks->back() += "The same plans as " + first->second + ".\n\n";
  } else if (t.base.plan_text == t.candidate.plan_text && t.base.generic_plan == t.candidate.generic_plan) {
    blocks->push_back("Plan of both versions:\n\n" + PlanCode(t.base.plan_text));
  } else {
    blocks->push_back("Base plan" + std::string(t.base.generic_plan ? " (generic)" : "") + ":\n\n" +
                      PlanCode(t.base.plan_text));
    blocks->push_back("Candidate plan" + std::string(t.candidate.generic_plan ? " (generic)" : "") + ":\n\n" +
                      PlanCode(t.candidate.plan_text));
  }
}

std::string HealthTable(const std::vector<TableHealth>& tables) {
  std::vector<std::vector<std::string>> rows;
  for (const TableHealth& h : tables) {
    rows.push_back({Md(h.table, kCellBytes), FormatCount(h.live_rows),
                    h.rows_at_analyze < 0 ? "never analyzed" : FormatCount(h.rows_at_analyze),
                    FormatCount(h.modified_since_analyze), h.last_analyze.empty() ? "never" : Md(h.last_analyze),
                    (h.stale ? "**stale**" : "ok") + (h.reason.empty() ? "" : ": " + Md(h.reason, kCellBytes)),
                    Md(h.analyze_sql, kCellBytes)});
  }
  return "Statistics of the tables read:\n\n" +
         Table({"table", "live rows", "rows at analyze", "modified since analyze", "last analyze", "statistics", "fix"},
               {false, true, true, true, false, false, false}, rows);
}

std::vector<std::string> DetailBlocks(const ReportResult& r) {
  std::vector<std::string> blocks;
  ShownPlans shown;
  for (const TenantResult& t : r.tenants) AppendTenantDetails(t, &shown, &blocks);
  if (!r.tables.empty()) blocks.push_back(HealthTable(r.tables));
  return blocks;
}

// The <summary> line sits in an HTML block, where Markdown is not read: it is escaped as HTML.
std::string Summary(const ReportResult& r) {
  std::string name = Clip(r.report, kCellBytes);
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // a line break would end the HTML block
  }
  name = EscapeHtml(name);
  return "<details><summary>Details of " + name + ": the plans of " + std::to_string(r.tenants.size()) +
         " tenant(s), notes and statistics</summary>\n\n";
}

// A report's Markdown, in blocks that can be left out whole.
struct ReportParts {
  std::vector<std::string> main;
  std::string summary;
  std::vector<std::string> details;
};

size_t Bytes(const std::vector<std::string>& blocks) {
  size_t n = 0;
  for (const std::string& b : blocks) n += b.size();
  return n;
}

constexpr std::string_view kClose = "</details>\n\n";
constexpr std::string_view kEverything =
    ", to keep this comment within GitHub's 65,536 characters; the `--html` and `--json` outputs have "
    "everything._\n\n";

// The report's <details> with all of its blocks when *room bytes hold them, else with the first ones
// and a line that says how many were cut. room goes down by what was written. Returns false when
// not even one block fit: then nothing was written.
bool AppendDetails(const ReportParts& p, size_t* room, std::string* out) {
  if (p.details.empty()) return true;
  std::string body;
  if (p.summary.size() + Bytes(p.details) + kClose.size() <= *room) {
    for (const std::string& block : p.details) body += block;
  } else {
    size_t kept = 0;
    for (; kept < p.details.size() &&
           p.summary.size() + body.size() + p.details[kept].size() + kClose.size() + kNoteBytes <= *room;
         ++kept) {
      body += p.details[kept];
    }
    if (kept == 0) return false;
    body += "_" + std::to_string(p.details.size() - kept) + " more part(s) of these details are left out" +
            std::string(kEverything);
  }
  *room -= p.summary.size() + body.size() + kClose.size();
  *out += p.summary + body + std::string(kClose);
  return true;
}

// Appends the blocks while the document stays within room bytes; false when some were left out.
bool AppendMain(const std::vector<std::string>& blocks, size_t room, std::string* out) {
  for (const std::string& block : blocks) {
    if (out->size() + block.size() > room) return false;
    *out += block;
  }
  return true;
}

}  // namespace

std::string RenderMarkdown(const CheckResult& result) {
  std::vector<ReportParts> reports;
  for (const ReportResult& r : result.reports) reports.push_back({MainBlocks(r), Summary(r), DetailBlocks(r)});
  const size_t room = kMarkdownMaxBytes - kNoteBytes;  // the rest is for the line that says what was cut
  std::string out = Head(result);
  size_t main = out.size();
  for (const ReportParts& p : reports) main += Bytes(p.main);
  size_t details_room = main < room ? room - main : 0;
  size_t details_cut = 0;
  for (const ReportParts& p : reports) {
    if (!AppendMain(p.main, room, &out)) {
      return out + "_The rest of this verdict is left out, the details of every report too" + std::string(kEverything);
    }
    details_cut += AppendDetails(p, &details_room, &out) ? 0 : 1;
  }
  if (details_cut > 0) {
    out += "_The details of " + std::to_string(details_cut) + " report(s) are left out" + std::string(kEverything);
  }
  return out;
}

}  // namespace strata::check
