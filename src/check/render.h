// render: turns a CheckResult into what people and CI read. Each renderer is a pure function of
// the result (no clock, no I/O) and returns the whole document; the caller writes it where the
// CLI was told to.
//
// Every string taken from the result (tenant values, report and table names, plans, rows, messages)
// is untrusted: it is escaped for the output format, invalid UTF-8 is replaced by U+FFFD and
// characters the format cannot carry are dropped. A hostile tenant value cannot inject markup.
#pragma once

#include <cstddef>
#include <string>

#include "check/check.h"

namespace strata::check {

// A self-contained HTML5 page: inline CSS and inline SVG charts, no scripts at all, nothing
// fetched from the network (a Content-Security-Policy meta tag forbids it). It shows the top
// verdict, the cost of the check, and per report its tenants, a log-log chart of median time
// against tenant size, the rows that differ, the plans side by side, misestimates and the health
// of the statistics.
std::string RenderHtml(const CheckResult& result);

// JUnit XML (XML 1.0, UTF-8) for CI: one <testsuite> per report, one <testcase> per tenant entry
// named "tenant <value> (<execution>)" with classname "strata.check.<report>". A tenant whose
// verdict is error gets an <error>, any other verdict but pass a <failure>; both carry the verdict
// name as type and the explanation. <system-out> has each version's median ms, rows and plan
// fingerprint. Counts (tests, failures, errors) are on every suite and on <testsuites>; a case's
// time is the sum of both versions' timed runs, the top-level time is the check's wall time.
std::string RenderJunit(const CheckResult& result);

// GitHub-flavoured Markdown for a pull request comment. It starts with the overall verdict in bold
// (**PASS** or **FAIL**), the reports checked and failed, the database, and what the gate cost. Per
// report: a heading with its verdict, where its tenants came from and its coverage, a table (tenant,
// why picked, rows, base ms, candidate ms, ratio, plan changed, verdict), then per failing tenant a
// section with the explanation, errors, the first differing rows as a table, misestimates, and the
// stale tables with the ANALYZE to run; the plan flips and the report's notes; last a collapsed
// <details> block with every tenant's plans (fenced code blocks, base then candidate; a tenant
// whose plans were shown for another tenant names it), the notes of passing tenants and the
// statistics of the tables read.
//
// Text from the result is escaped as EscapeMarkdown (render_format.h) says, plans and SQL as
// MarkdownCodeBlock: data cannot start markup or HTML, nor close the <details>. The document is at
// most kMarkdownMaxBytes, below the 65,536 characters GitHub takes in a comment. When the whole
// would be longer, the details are cut first (each report's details get what room the reports
// before them left), then the reports' sections, and a line in italics says what was cut.
inline constexpr size_t kMarkdownMaxBytes = 60000;
std::string RenderMarkdown(const CheckResult& result);

}  // namespace strata::check

namespace strata::check {

// The terminal verdict: per report a table (tenant, why picked, rows, base ms, candidate ms, ratio,
// plan, verdict), one paragraph per failing tenant with its first differing rows, plan flips and
// notes; then the overall verdict and what the gate itself cost.
std::string RenderText(const CheckResult& result);

// The verdict JSON, format "strata-check/1" (INTERFACES.md; docs/check.md documents every field).
// Strings are valid UTF-8 (invalid bytes from the database become U+FFFD).
std::string RenderJson(const CheckResult& result);

// One line of a report's coverage, the same in every output: "results compared for 2,000 of 2,000
// tenants (24 picked, 1,976 by the sweep); 7 rare value features, 7 held by a picked tenant".
std::string Coverage(const ReportResult& report);
size_t CountFromSweep(const ReportResult& report);

// Where a report's tenants came from, the same in the terminal and in Markdown: "3 tenants: 1 named
// with --tenants, 2 picked from the project's tenant query".
std::string TenantsLine(const ReportResult& report);

}  // namespace strata::check
