// The terminal verdict: a table a DBA reads in ten seconds, then one paragraph per failure.
#include <algorithm>

#include "check/render.h"
#include "check/render_format.h"
#include "common/text.h"

namespace strata::check {

namespace {

// One line of text for a terminal cell: repaired, control characters shown as spaces, cut to width
// characters with "…".
std::string Cell(const std::string& s, size_t width) {
  std::string clean = RepairUtf8(s);
  for (char& c : clean) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (Utf8Length(clean) <= width) return clean;
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < clean.size() && chars + 1 < width;) {
    const size_t len = std::max<size_t>(1, Utf8SequenceLength(std::string_view(clean).substr(i)));
    out.append(clean, i, len);
    i += len;
    ++chars;
  }
  return out + "…";
}

std::string Pad(const std::string& s, size_t width, bool right = false) {
  const size_t len = Utf8Length(s);
  const std::string fill(len < width ? width - len : 0, ' ');
  return right ? fill + s : s + fill;
}

std::string VerdictWord(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kDifferentResults: return "DIFFERENT RESULTS";
    case Verdict::kSlower: return "SLOWER";
    case Verdict::kTimeout: return "TIMEOUT";
    case Verdict::kError: return "ERROR";
  }
  return "";
}

std::string Joined(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

size_t CountFromSweep(const ReportResult& r) {
  size_t n = 0;
  for (const TenantResult& t : r.tenants) n += t.from_sweep;
  return n;
}

std::string Coverage(const ReportResult& r) {
  std::string out = "results compared for " + FormatCount(r.results_compared) + " of " + FormatCount(r.tenants_total) +
                    " tenants (" + std::to_string(r.tenants.size() - CountFromSweep(r)) + " picked, " +
                    FormatCount(r.sweep.compared) + " by the sweep";
  if (r.sweep.budget_ms <= 0) {
    out += ": off";
  } else if (r.sweep.remaining > 0) {
    out += "; its budget of " + FormatFixed(r.sweep.budget_ms / 1000, 0) + " s left " + FormatCount(r.sweep.remaining) +
           " unchecked";
  }
  out += ")";
  if (r.rare_features > 0) {
    out += "; " + std::to_string(r.rare_features) + " rare value features, " +
           std::to_string(r.rare_features - r.rare_features_uncovered) + " held by a picked tenant";
  }
  return out;
}

std::string TenantsLine(const ReportResult& r) {
  size_t named = 0;
  for (const TenantResult& t : r.tenants) {
    for (const std::string& why : t.tenant.why) named += why.rfind("named with --tenants", 0) == 0 ? 1 : 0;
  }
  const size_t n = r.tenants.size();
  std::string line = std::to_string(n) + (n == 1 ? " tenant" : " tenants");
  const std::string from = Cell(r.tenants_from, 60);
  if (named == 0) return line + " from " + from;
  if (named == n) return line + " named with --tenants";
  return line + ": " + std::to_string(named) + " named with --tenants, " + std::to_string(n - named) + " picked from " +
         from;
}

std::string RenderText(const CheckResult& result) {
  std::string out;
  for (const ReportResult& r : result.reports) {
    out += "\n" + r.report;
    if (!r.base_report.empty()) out += " against " + r.base_report;
    out += ": " + std::string(r.verdict == Verdict::kPass ? "PASS" : "FAIL") + "  (" + TenantsLine(r) + ")\n";
    const std::vector<std::string> head = {"tenant",   "why picked", "rows", "base ms",
                                           "cand. ms", "ratio",      "plan", "verdict"};
    std::vector<std::vector<std::string>> rows;
    for (const TenantResult& t : r.tenants) {
      std::string rows_text = FormatCount(t.base.rows);
      if (t.candidate.rows != t.base.rows && t.candidate.rows >= 0) rows_text += "/" + FormatCount(t.candidate.rows);
      std::string plan = t.plan_changed ? "changed" : "same";
      if (t.candidate.generic_plan && !t.base.generic_plan) plan += ", generic";
      if (t.base.plan.empty() || t.candidate.plan.empty()) plan = "?";
      rows.push_back({Cell(t.tenant.value.text, 14), Cell(Joined(t.tenant.why, "; "), 44), rows_text,
                      FormatMs(t.base.median_ms), t.candidate.timed_out ? "timeout" : FormatMs(t.candidate.median_ms),
                      FormatRatio(t), plan, VerdictWord(t.verdict)});
    }
    std::vector<size_t> width(head.size());
    for (size_t c = 0; c < head.size(); ++c) {
      width[c] = Utf8Length(head[c]);
      for (const auto& row : rows) width[c] = std::max(width[c], Utf8Length(row[c]));
    }
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l = " ";
      for (size_t c = 0; c < cells.size(); ++c) {
        const bool numeric = c >= 2 && c <= 5;
        l += " " + Pad(cells[c], width[c], numeric) + (c + 1 < cells.size() ? " " : "");
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      return l + "\n";
    };
    out += line(head);
    for (const auto& row : rows) out += line(row);

    for (const TenantResult& t : r.tenants) {
      if (t.verdict == Verdict::kPass) continue;
      out += "\n  " + VerdictWord(t.verdict) + ", tenant " + Cell(t.tenant.value.text, 40) + ": " +
             Cell(t.explanation, 100000) + "\n";
      if (t.diff && !t.diff->order_only) {
        auto show = [&](const char* side, const std::vector<std::vector<std::string>>& rows_of_side) {
          for (const auto& row : rows_of_side)
            out += std::string("    ") + side + " " + Cell(Joined(row, " | "), 110) + "\n";
        };
        show("only in base:     ", t.diff->base_rows);
        show("only in candidate:", t.diff->candidate_rows);
      }
    }
    if (!r.base_plan_flips.empty()) out += "\n  base plan flips " + Joined(r.base_plan_flips, "; ") + "\n";
    if (!r.candidate_plan_flips.empty()) out += "  candidate plan flips " + Joined(r.candidate_plan_flips, "; ") + "\n";
    if (!r.error.empty()) out += "\n  ERROR: " + Cell(r.error, 400) + "\n";
    out += "  " + Coverage(r) + "\n";
    for (const std::string& n : r.notes) out += "  note: " + Cell(n, 300) + "\n";
  }
  std::size_t failed = 0;
  for (const ReportResult& r : result.reports) failed += r.verdict != Verdict::kPass;
  out += "\n" + std::string(result.pass ? "PASS" : "FAIL") + ": " + std::to_string(result.reports.size()) +
         " report(s) checked, " + std::to_string(failed) + " failed, on " + Cell(result.database, 80);
  if (result.analyzed_first)
    out += " (statistics refreshed first: ANALYZE " + Joined(result.analyzed_tables, ", ") + ")";
  const double overhead = result.cost.wall_ms - result.cost.query_ms;
  out += "\n  " + std::to_string(result.cost.executions) + " executions, " + FormatMs(result.cost.wall_ms) +
         " ms in all, of which Strata's own work " + FormatMs(overhead) + " ms (" +
         FormatFixed(result.cost.wall_ms > 0 ? 100 * overhead / result.cost.wall_ms : 0, 1) + "%)\n";
  return out;
}

}  // namespace strata::check
