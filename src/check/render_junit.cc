#include <cmath>
#include <string>
#include <string_view>

#include "check/render.h"
#include "check/render_format.h"
#include "common/text.h"

namespace strata::check {

namespace {

// For attribute values.
std::string Xml(std::string_view s) {
  std::string out;
  AppendXml(s, XmlContext::kAttribute, &out);
  return out;
}

std::string XmlText(std::string_view s) {
  std::string out;
  AppendXml(s, XmlContext::kText, &out);
  return out;
}

double RunSeconds(const TenantResult& t) {
  double ms = 0;
  for (double v : t.base.ms) ms += v;
  for (double v : t.candidate.ms) ms += v;
  return ms / 1000;
}

std::string Runs(std::string_view side, const VersionRuns& v) {
  std::string s(side);
  s += ": median ";
  s += FormatFixed(v.median_ms, 3);
  s += " ms over " + std::to_string(v.ms.size()) + " runs";
  if (v.timed_out) s += " (timed out at " + FormatFixed(v.timeout_ms, 0) + " ms)";
  s += ", rows " + (v.rows < 0 ? std::string("unknown") : std::to_string(v.rows));
  s += ", plan " + (v.plan.empty() ? std::string("unknown") : v.plan);
  if (v.generic_plan) s += " (generic plan)";
  if (!v.error.empty()) s += ", error: " + v.error;
  return s + "\n";
}

std::string CaseName(const TenantResult& t) {
  return "tenant " + t.tenant.value.text + " (" + t.execution + ")";
}

// The body of a <failure> or <error>: the explanation, then what a CI log reader needs next.
std::string FailureText(const TenantResult& t) {
  std::string s = t.explanation;
  if (!s.empty()) s += "\n";
  if (!t.base.error.empty()) s += "base error: " + t.base.error + "\n";
  if (!t.candidate.error.empty()) s += "candidate error: " + t.candidate.error + "\n";
  if (t.diff) {
    const RowDiff& d = *t.diff;
    if (d.order_only) {
      s += "same rows, different order from row " + std::to_string(d.first_order_difference + 1) + "\n";
    } else {
      s += std::to_string(d.only_in_base) + " rows only in base, " + std::to_string(d.only_in_candidate) +
           " rows only in candidate\n";
    }
  }
  if (t.ratio > 0 && std::isfinite(t.ratio)) {
    s += std::string("ratio ") + (t.candidate.timed_out ? ">= " : "") + FormatFixed(t.ratio, 2) + "x\n";
  }
  return s;
}

void AppendCase(const ReportResult& report, const TenantResult& t, std::string* out) {
  *out += "    <testcase name=\"" + Xml(CaseName(t)) + "\" classname=\"strata.check." + Xml(report.report) +
          "\" time=\"" + FormatFixed(RunSeconds(t), 3) + "\">\n";
  if (t.verdict != Verdict::kPass) {
    const char* element = t.verdict == Verdict::kError ? "error" : "failure";
    const std::string message = t.explanation.empty() ? std::string(VerdictName(t.verdict)) : t.explanation;
    *out += std::string("      <") + element + " type=\"" + Xml(VerdictName(t.verdict)) + "\" message=\"" +
            Xml(message) + "\">" + XmlText(FailureText(t)) + "</" + element + ">\n";
  }
  std::string system_out = "params:";
  for (const auto& [name, value] : t.params) system_out += " " + name + "=" + value.text;
  system_out += "\n" + Runs("base", t.base) + Runs("candidate", t.candidate);
  *out += "      <system-out>" + XmlText(system_out) + "</system-out>\n";
  *out += "    </testcase>\n";
}

struct Counts {
  size_t tests = 0;
  size_t failures = 0;
  size_t errors = 0;
  double seconds = 0;
};

Counts Count(const ReportResult& report) {
  Counts c;
  if (!report.error.empty()) {  // the report's own error: no tenant's rows were compared
    ++c.tests;
    ++c.errors;
  }
  for (const TenantResult& t : report.tenants) {
    ++c.tests;
    if (t.verdict == Verdict::kError) {
      ++c.errors;
    } else if (t.verdict != Verdict::kPass) {
      ++c.failures;
    }
    c.seconds += RunSeconds(t);
  }
  return c;
}

std::string CountAttributes(const Counts& c, double seconds) {
  return " tests=\"" + std::to_string(c.tests) + "\" failures=\"" + std::to_string(c.failures) + "\" errors=\"" +
         std::to_string(c.errors) + "\" time=\"" + FormatFixed(seconds, 3) + "\"";
}

}  // namespace

std::string RenderJunit(const CheckResult& result) {
  Counts total;
  for (const ReportResult& report : result.reports) {
    const Counts c = Count(report);
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"strata check\"" + CountAttributes(total, result.cost.wall_ms / 1000) + ">\n";
  for (const ReportResult& report : result.reports) {
    const Counts c = Count(report);
    out += "  <testsuite name=\"" + Xml(report.report) + "\"" + CountAttributes(c, c.seconds) + ">\n";
    out += "    <properties>\n";
    auto property = [&](std::string_view name, std::string_view value) {
      out += "      <property name=\"" + Xml(name) + "\" value=\"" + Xml(value) + "\"/>\n";
    };
    property("database", result.database);
    property("base", result.base_label);
    property("candidate", result.candidate_label);
    if (!report.base_report.empty()) property("base_report", report.base_report);
    property("verdict", VerdictName(report.verdict));
    property("tenants_total", std::to_string(report.tenants_total));
    property("results_compared", std::to_string(report.results_compared));
    property("coverage", Coverage(report));
    out += "    </properties>\n";
    if (!report.error.empty()) {
      out += "    <testcase name=\"coverage\" classname=\"strata.check." + Xml(report.report) +
             "\" time=\"0\">\n      <error type=\"error\" message=\"" + Xml(report.error) + "\">" +
             XmlText(report.error) + "</error>\n    </testcase>\n";
    }
    for (const TenantResult& t : report.tenants) AppendCase(report, t, &out);
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace strata::check
