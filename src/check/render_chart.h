// The chart of a report on the HTML page: each version's median time against tenant size,
// log-log, as an inline SVG element that needs no script and no stylesheet.
#pragma once

#include <string>

#include "check/check.h"

namespace strata::check {

// An <svg> element (HTML5 inline SVG, also well-formed XML). x is the tenant's size in the first
// dimension where some tenant's size is positive, labelled with the dimension's name; when no size
// is known, x is the base's rows + 1. y is the median ms; a version that timed out is drawn at its
// timeout with its own marker, a version that failed is not drawn. Values <= 0 are drawn at a tenth
// of the smallest positive value on their axis. Ticks are at powers of ten. Markers carry the
// classes "pt base", "pt candidate" and "pt timed-out", and a <title> naming the tenant.
std::string RenderTimeChart(const ReportResult& report);

}  // namespace strata::check
