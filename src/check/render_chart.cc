#include "check/render_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "check/render_format.h"
#include "common/text.h"

namespace strata::check {

namespace {

constexpr double kWidth = 640, kHeight = 380;
constexpr double kLeft = 80, kRight = 36, kTop = 44, kBottom = 52;
constexpr const char* kBaseColour = "#1f6fb4";
constexpr const char* kCandidateColour = "#e07b00";
constexpr const char* kTimeoutColour = "#c62828";

enum class Series { kBase, kCandidate };

struct Point {
  double x = 0;
  double y = 0;
  Series series = Series::kBase;
  bool timed_out = false;
  std::string title;  // plain text, escaped when written
};

// A log-scale axis over whole decades [10^lo, 10^hi].
struct LogAxis {
  int lo = 0;
  int hi = 1;
  double Fraction(double v) const { return (std::log10(v) - lo) / (hi - lo); }
};

// Replaces values <= 0 by a tenth of the smallest positive one (1 when none is), then fits the axis
// to whole decades around them.
LogAxis FitAxis(std::vector<double*> values) {
  double smallest = std::numeric_limits<double>::infinity(), largest = 0;
  for (double* v : values) {
    if (*v > 0) smallest = std::min(smallest, *v), largest = std::max(largest, *v);
  }
  const double floor_value = std::isfinite(smallest) ? smallest / 10 : 1;
  for (double* v : values) {
    if (!(*v > 0)) *v = floor_value;
    smallest = std::min(smallest, *v);
    largest = std::max(largest, *v);
  }
  LogAxis axis;
  if (values.empty()) return axis;
  double low = std::log10(smallest), high = std::log10(largest);
  if (high - low < 1) {  // one value, or close ones: widen so they sit inside the plot, not on its edge
    const double middle = (low + high) / 2;
    low = middle - 0.5;
    high = middle + 0.5;
  }
  axis.lo = static_cast<int>(std::floor(low));
  axis.hi = static_cast<int>(std::ceil(high));
  return axis;
}

// 10^k as people write it: "0.01", "1", "1,000"; "1e21" past what a uint64 holds.
std::string PowerOfTen(int k) {
  if (k < 0) return "0." + std::string(static_cast<size_t>(-k - 1), '0') + "1";
  if (k > 18) return "1e" + std::to_string(k);
  uint64_t n = 1;
  for (int i = 0; i < k; ++i) n *= 10;
  return GroupThousands(n);
}

std::string Num(double v) {
  return FormatFixed(v, 1);
}

// The index of the first dimension in which some tenant's size is positive, or -1.
int SizeDimension(const ReportResult& report) {
  size_t dimensions = 0;
  for (const TenantResult& t : report.tenants) dimensions = std::max(dimensions, t.tenant.sizes.size());
  for (size_t d = 0; d < dimensions; ++d) {
    for (const TenantResult& t : report.tenants) {
      if (d < t.tenant.sizes.size() && t.tenant.sizes[d] > 0) return static_cast<int>(d);
    }
  }
  return -1;
}

void AddPoint(const TenantResult& t, double x, Series series, std::vector<Point>* points) {
  const VersionRuns& v = series == Series::kBase ? t.base : t.candidate;
  if (!v.timed_out && !v.error.empty()) return;
  Point p;
  p.x = x;
  p.series = series;
  p.timed_out = v.timed_out;
  p.y = v.timed_out && v.timeout_ms > 0 ? v.timeout_ms : v.median_ms;
  p.title = "tenant " + t.tenant.value.text + " (" + t.execution + "), " +
            (series == Series::kBase ? "base: " : "candidate: ") + (v.timed_out ? "timed out at " : "") +
            FormatMs(p.y) + " ms";
  points->push_back(std::move(p));
}

void AppendMarker(const Point& p, double cx, double cy, std::string* out) {
  *out += "<g class=\"pt ";
  if (p.timed_out) {
    *out += "timed-out\"><path d=\"M" + Num(cx) + " " + Num(cy - 6) + " l6 10.4 h-12 z\" fill=\"" + kTimeoutColour +
            "\" stroke=\"#000\" stroke-width=\"0.8\"/>";
  } else if (p.series == Series::kBase) {
    *out += std::string("base\"><circle cx=\"") + Num(cx) + "\" cy=\"" + Num(cy) + "\" r=\"4.5\" fill=\"" +
            kBaseColour + "\"/>";
  } else {
    *out += std::string("candidate\"><rect x=\"") + Num(cx - 4) + "\" y=\"" + Num(cy - 4) +
            "\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"" + kCandidateColour + "\" stroke-width=\"2\"/>";
  }
  *out += "<title>" + EscapeHtml(p.title) + "</title></g>\n";
}

void AppendLegend(bool any_timed_out, std::string* out) {
  double x = kLeft;
  auto entry = [&](std::string_view marker, std::string_view label) {
    *out += "<g transform=\"translate(" + Num(x) + ",18)\">" + std::string(marker) +
            "<text x=\"12\" y=\"4\" font-size=\"12\">" + std::string(label) + "</text></g>\n";
    x += 30 + 7.0 * static_cast<double>(label.size());
  };
  entry(std::string("<circle r=\"4.5\" fill=\"") + kBaseColour + "\"/>", "base");
  entry(std::string("<rect x=\"-4\" y=\"-4\" width=\"8\" height=\"8\" fill=\"none\" stroke=\"") + kCandidateColour +
            "\" stroke-width=\"2\"/>",
        "candidate");
  if (any_timed_out) {
    entry(std::string("<path d=\"M0 -6 l6 10.4 h-12 z\" fill=\"") + kTimeoutColour +
              "\" stroke=\"#000\" stroke-width=\"0.8\"/>",
          "timed out (drawn at the timeout)");
  }
}

}  // namespace

std::string RenderTimeChart(const ReportResult& report) {
  const int dimension = SizeDimension(report);
  std::string x_label = "base rows + 1";
  if (dimension >= 0) {
    x_label = static_cast<size_t>(dimension) < report.dimensions.size() ? report.dimensions[dimension] : "size";
  }
  std::vector<Point> points;
  size_t unsized = 0;
  for (const TenantResult& t : report.tenants) {
    double x;
    if (dimension < 0) {
      x = static_cast<double>(std::max<int64_t>(t.base.rows, 0)) + 1;
    } else if (static_cast<size_t>(dimension) < t.tenant.sizes.size()) {
      x = t.tenant.sizes[dimension];
    } else {
      ++unsized;
      continue;
    }
    AddPoint(t, x, Series::kBase, &points);
    AddPoint(t, x, Series::kCandidate, &points);
  }
  std::vector<double*> xs, ys;
  for (Point& p : points) xs.push_back(&p.x), ys.push_back(&p.y);
  const LogAxis x_axis = FitAxis(xs), y_axis = FitAxis(ys);
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  auto px = [&](double v) { return kLeft + x_axis.Fraction(v) * plot_w; };
  auto py = [&](double v) { return kTop + (1 - y_axis.Fraction(v)) * plot_h; };

  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + Num(kWidth) +
                    "\" height=\"" + Num(kHeight) + "\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(kHeight) +
                    "\" role=\"img\" aria-label=\"median ms by " + EscapeHtml(x_label) + ", log-log\">\n";
  out += "<g font-family=\"sans-serif\" font-size=\"11\" fill=\"#444\">\n";
  // Ticks at powers of ten, at most about eight per axis.
  auto step = [](const LogAxis& a) { return std::max(1, (a.hi - a.lo + 7) / 8); };
  for (int k = x_axis.lo; k <= x_axis.hi; k += step(x_axis)) {
    const double x = px(std::pow(10.0, k));
    out += "<line x1=\"" + Num(x) + "\" y1=\"" + Num(kTop) + "\" x2=\"" + Num(x) + "\" y2=\"" + Num(kTop + plot_h) +
           "\" stroke=\"#e3e3e3\"/><text x=\"" + Num(x) + "\" y=\"" + Num(kTop + plot_h + 16) +
           "\" text-anchor=\"middle\">" + PowerOfTen(k) + "</text>\n";
  }
  for (int k = y_axis.lo; k <= y_axis.hi; k += step(y_axis)) {
    const double y = py(std::pow(10.0, k));
    out += "<line x1=\"" + Num(kLeft) + "\" y1=\"" + Num(y) + "\" x2=\"" + Num(kLeft + plot_w) + "\" y2=\"" + Num(y) +
           "\" stroke=\"#e3e3e3\"/><text x=\"" + Num(kLeft - 6) + "\" y=\"" + Num(y + 4) + "\" text-anchor=\"end\">" +
           PowerOfTen(k) + "</text>\n";
  }
  out += "<rect x=\"" + Num(kLeft) + "\" y=\"" + Num(kTop) + "\" width=\"" + Num(plot_w) + "\" height=\"" +
         Num(plot_h) + "\" fill=\"none\" stroke=\"#888\"/>\n";
  out += "<text x=\"" + Num(kLeft + plot_w / 2) + "\" y=\"" + Num(kHeight - 12) + "\" text-anchor=\"middle\">" +
         EscapeHtml(x_label) + " (log)</text>\n";
  out += "<text transform=\"translate(16," + Num(kTop + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">median ms (log)</text>\n</g>\n";

  // A thin line per series, in order of size, shows how each version scales.
  for (Series series : {Series::kBase, Series::kCandidate}) {
    std::vector<const Point*> line;
    for (const Point& p : points) {
      if (p.series == series) line.push_back(&p);
    }
    if (line.size() < 2) continue;
    std::stable_sort(line.begin(), line.end(), [](const Point* a, const Point* b) { return a->x < b->x; });
    out += "<polyline fill=\"none\" stroke-opacity=\"0.45\" stroke-width=\"1.5\" stroke=\"";
    out += series == Series::kBase ? kBaseColour : kCandidateColour;
    out += "\" points=\"";
    for (const Point* p : line) out += Num(px(p->x)) + "," + Num(py(p->y)) + " ";
    out += "\"/>\n";
  }
  bool any_timed_out = false;
  for (const Point& p : points) {
    AppendMarker(p, px(p.x), py(p.y), &out);
    any_timed_out = any_timed_out || p.timed_out;
  }
  AppendLegend(any_timed_out, &out);
  if (points.empty() || unsized > 0) {
    const std::string note = points.empty() ? "no tenant has a time to draw"
                                            : std::to_string(unsized) + " tenant(s) without a size are not drawn";
    out += "<text x=\"" + Num(kLeft + 8) + "\" y=\"" + Num(kTop + 16) + "\" font-size=\"12\" fill=\"#444\">" +
           EscapeHtml(note) + "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace strata::check
