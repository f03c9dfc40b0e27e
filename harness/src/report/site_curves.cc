// Curves as SVG: downsampled for drawing (min and max per pixel column), axes and ticks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "report/site.h"

namespace repro::internal {
namespace {

std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string coordinate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

Points downsample(const Points& points, double x0, double x1, int columns) {
  Points out;
  if (columns < 1 || !(x1 >= x0)) return out;
  const double width = x1 > x0 ? x1 - x0 : 1.0;
  int column = -1;
  std::size_t lo = 0, hi = 0;  // indices of the current column's lowest and highest point
  auto emit = [&]() {
    if (column < 0) return;
    const std::size_t first = std::min(lo, hi), second = std::max(lo, hi);
    out.push_back(points[first]);
    if (second != first) out.push_back(points[second]);
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& [x, y] = points[i];
    if (!std::isfinite(x) || !std::isfinite(y) || x < x0 || x > x1) continue;
    const int c = std::min(columns - 1, static_cast<int>((x - x0) / width * columns));
    if (c != column) {
      emit();
      column = c;
      lo = hi = i;
    } else {
      if (y < points[lo].second) lo = i;
      if (y > points[hi].second) hi = i;
    }
  }
  emit();
  return out;
}

Html curve_chart(const std::string& id, const std::string& title, const std::vector<Curve>& curves, Axis axis,
                 std::optional<std::int64_t> marker_step, const std::string& marker_label) {
  const double left = kChartLeft, right = kChartWidth - kChartRight, top = kChartTop,
               bottom = kChartHeight - kChartBottom;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& c : curves) {
    for (const auto& [x, y] : c.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      if (axis == Axis::kLog && y <= 0) continue;
      y0 = std::min(y0, y);
      y1 = std::max(y1, y);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  const bool log = axis == Axis::kLog;
  if (!std::isfinite(y0)) y0 = log ? 1e-8 : 0, y1 = log ? 1 : 1;
  if (log) {
    y0 = std::floor(std::log10(y0));
    y1 = std::ceil(std::log10(y1));
  }
  if (y1 == y0) y1 = y0 + 1;
  const double plot_w = right - left, plot_h = bottom - top;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * plot_w; };
  auto py = [&](double y) {
    if (log) y = y > 0 ? std::log10(y) : y0;
    return bottom - (std::clamp(y, y0, y1) - y0) / (y1 - y0) * plot_h;
  };

  std::vector<Polyline> lines;
  const int columns = static_cast<int>(plot_w);
  for (const auto& c : curves) {
    Points drawn = c.points;
    if (log) {
      for (auto& p : drawn) p.second = p.second > 0 ? std::log10(p.second) : y0;
    }
    std::string points;
    for (const auto& [x, y] : downsample(drawn, x0, x1, columns)) {
      if (!points.empty()) points += ' ';
      points += coordinate(px(x)) + "," + coordinate(bottom - (std::clamp(y, y0, y1) - y0) / (y1 - y0) * plot_h);
    }
    lines.push_back({points, c.colour, c.label});
  }
  std::vector<Tick> x_ticks, y_ticks;
  for (int i = 0; i <= 5; ++i) {
    const double x = x0 + (x1 - x0) * i / 5;
    x_ticks.push_back({px(x), std::to_string(static_cast<long long>(std::llround(x)))});
  }
  if (log) {
    const int step = std::max(1, static_cast<int>((y1 - y0) / 6));
    for (int e = static_cast<int>(y0); e <= static_cast<int>(y1); e += step) {
      y_ticks.push_back({bottom - (e - y0) / (y1 - y0) * plot_h,
                         e == static_cast<int>(y0) ? "0 / 1e" + std::to_string(e) : "1e" + std::to_string(e)});
    }
  } else {
    for (int i = 0; i <= 4; ++i) {
      const double y = y0 + (y1 - y0) * i / 4;
      y_ticks.push_back({py(y), short_number(y)});
    }
  }
  std::vector<Marker> markers;
  if (marker_step) markers.push_back({px(static_cast<double>(*marker_step)), marker_label});
  return chart(id, title, lines, x_ticks, y_ticks, markers);
}

}  // namespace repro::internal
