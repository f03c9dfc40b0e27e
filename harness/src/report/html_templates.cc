#include "report/html_templates.h"

#include <cstdio>

#include "repro/error.h"
#include "util/strings.h"

namespace repro::internal {
namespace {

// The page. The CSP forbids every request (a load would be a console error), the icon is an
// empty data: URL so the browser asks for no favicon.
constexpr std::string_view kPage = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{title}}</title>
<style>{{style}}</style>
</head>
<body>
<nav><a href="index.html">reprotorch report</a></nav>
<h1>{{title}}</h1>
{{body}}
<script>{{script}}</script>
</body>
</html>
)";

constexpr std::string_view kStyle = R"(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1b1b; background: #fff; }
nav { font-size: 12px; margin-bottom: .5em; }
h1 { font-size: 20px; margin: .2em 0 .6em; word-break: break-all; }
h2 { font-size: 16px; margin: 1.4em 0 .4em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
td { white-space: pre-wrap; word-break: break-word; max-width: 48em; }
th { background: #f3f3f3; }
#runs td, #causes-table td:nth-child(-n+2) { white-space: nowrap; }
table.sortable th { cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \25b2"; }
th[aria-sort=descending]::after { content: " \25bc"; }
tr.differs td { background: #fff4e0; }
tr.numerics td { background: #ffe1e1; }
code, td { font-family: ui-monospace, monospace; font-size: 12px; }
.verdict { font-size: 18px; font-weight: bold; padding: .3em .6em; display: inline-block; border-radius: 4px; }
.verdict-identical, .verdict-within_tolerance, .verdict-same { background: #dff5df; color: #135c13; }
.verdict-diverged, .verdict-incomparable { background: #ffe1e1; color: #8a1010; }
.note { color: #666; font-size: 12px; }
.controls { margin: .5em 0; }
.controls input[type=search] { width: 24em; }
svg { background: #fff; border: 1px solid #ddd; display: block; margin: .4em 0; }
svg text { font: 11px sans-serif; fill: #333; }
svg .axis { stroke: #999; stroke-width: 1; }
svg .line { fill: none; stroke-width: 1.2; }
svg .c0 { stroke: #1f77b4; } svg .c1 { stroke: #ff7f0e; } svg .c2 { stroke: #d62728; }
svg .marker { stroke: #8a1010; stroke-dasharray: 4 3; }
)";

constexpr std::string_view kScript = R"(
(function () {
  'use strict';
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function key(row, i) {
    var c = row.cells[i];
    if (!c) return '';
    return c.hasAttribute('data-sort') ? c.getAttribute('data-sort') : c.textContent.trim();
  }
  each(document.querySelectorAll('table.sortable'), function (table) {
    var heads = table.tHead.rows[0].cells;
    each(heads, function (th, i) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        each(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
        rows.sort(function (a, b) {
          var x = key(a, i), y = key(b, i), nx = Number(x), ny = Number(y);
          var numeric = x !== '' && y !== '' && !isNaN(nx) && !isNaN(ny);
          return dir * (numeric ? nx - ny : x.localeCompare(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var filter = document.getElementById('filter');
  if (filter) {
    filter.addEventListener('input', function () {
      var q = filter.value.toLowerCase();
      each(document.querySelectorAll('#runs tbody tr'), function (r) {
        r.hidden = q !== '' && r.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  }
  var open = document.getElementById('open-comparison');
  if (open) {
    open.addEventListener('click', function () {
      var picked = [];
      each(document.querySelectorAll('input.pick:checked'), function (c) { picked.push(c.value); });
      var message = document.getElementById('pick-message');
      if (picked.length !== 2) { message.textContent = 'Pick exactly two runs.'; return; }
      var items = document.querySelectorAll('#comparisons li');
      for (var i = 0; i < items.length; ++i) {
        var a = items[i].getAttribute('data-a'), b = items[i].getAttribute('data-b');
        if ((a === picked[0] && b === picked[1]) || (a === picked[1] && b === picked[0])) {
          window.location.href = items[i].getAttribute('data-href');
          return;
        }
      }
      message.textContent = 'No comparison page of ' + picked[0] + ' and ' + picked[1] +
          ' was generated: run "repro report RUN_A RUN_B --out DIR" (or --all-pairs).';
    });
  }
  var toggle = document.getElementById('only-differences-toggle');
  if (toggle) {
    var apply = function () {
      var table = document.getElementById(toggle.getAttribute('data-table'));
      each(table.querySelectorAll('tbody tr[data-equal="1"]'), function (r) { r.hidden = toggle.checked; });
      document.body.setAttribute('data-only-differences', toggle.checked ? '1' : '0');
    };
    if (window.location.hash === '#only-differences') toggle.checked = true;
    toggle.addEventListener('change', apply);
    apply();
  }
})();
)";

constexpr std::string_view kSection = "<section{{id}}>\n<h2>{{title}}</h2>\n{{content}}\n</section>\n";
constexpr std::string_view kParagraph = "<p{{id}}>{{content}}</p>\n";
constexpr std::string_view kDetails = "<details><summary>{{summary}}</summary>\n{{content}}\n</details>\n";
constexpr std::string_view kVerdict =
    "<p><span id=\"verdict\" class=\"verdict verdict-{{verdict}}\">{{verdict_text}}</span></p>\n"
    "<p id=\"summary\">{{summary}}</p>\n";
constexpr std::string_view kLabelled = "<p>{{label}}: <strong id=\"{{id}}\">{{value}}</strong></p>\n";
constexpr std::string_view kNote = "<p class=\"note\">{{value}}</p>\n";
constexpr std::string_view kLink = "<a href=\"{{href}}\">{{label}}</a>";
constexpr std::string_view kCode = "<code>{{value}}</code>";
constexpr std::string_view kTable =
    "<table{{id}}{{class}}>\n<thead><tr>{{headings}}</tr></thead>\n<tbody>\n{{rows}}</tbody>\n</table>\n";
constexpr std::string_view kHeading = "<th>{{text}}</th>";
constexpr std::string_view kRow = "<tr{{class}}{{attributes}}>{{cells}}</tr>\n";
constexpr std::string_view kCell = "<td{{sort}}>{{content}}</td>";
constexpr std::string_view kIndexControls =
    "<div class=\"controls\"><input type=\"search\" id=\"filter\" placeholder=\"filter runs (any text in a row)\">\n"
    " <button type=\"button\" id=\"open-comparison\">compare the two checked runs</button>\n"
    " <span id=\"pick-message\" class=\"note\"></span></div>\n";
constexpr std::string_view kPickBox =
    "<input type=\"checkbox\" class=\"pick\" value=\"{{id}}\" aria-label=\"pick {{id}}\">";
constexpr std::string_view kComparisonItem =
    "<li data-a=\"{{a}}\" data-b=\"{{b}}\" data-href=\"{{href}}\"><a href=\"{{href}}\">{{a}} vs {{b}}</a>: "
    "<span class=\"verdict-{{verdict}}\">{{verdict}}</span> — {{summary}}</li>\n";
constexpr std::string_view kComparisonList = "<ul id=\"comparisons\">\n{{items}}</ul>\n";
constexpr std::string_view kToggle =
    "<p class=\"controls\"><label><input type=\"checkbox\" id=\"only-differences-toggle\" data-table=\"{{table}}\"> "
    "only differences</label> <span class=\"note\">(or open this page with #only-differences)</span></p>\n";

constexpr std::string_view kChart =
    "<svg id=\"{{id}}\" width=\"{{width}}\" height=\"{{height}}\" viewBox=\"0 0 {{width}} {{height}}\" "
    "role=\"img\" aria-label=\"{{title}}\">\n"
    "<text x=\"{{left}}\" y=\"15\">{{title}}</text>\n{{axes}}{{ticks}}{{lines}}{{markers}}{{legend}}</svg>\n";
constexpr std::string_view kAxes =
    "<line class=\"axis\" x1=\"{{left}}\" y1=\"{{bottom}}\" x2=\"{{right}}\" y2=\"{{bottom}}\"/>"
    "<line class=\"axis\" x1=\"{{left}}\" y1=\"{{top}}\" x2=\"{{left}}\" y2=\"{{bottom}}\"/>\n";
constexpr std::string_view kXTick =
    "<line class=\"axis\" x1=\"{{x}}\" y1=\"{{y}}\" x2=\"{{x}}\" y2=\"{{y2}}\"/>"
    "<text x=\"{{x}}\" y=\"{{label_y}}\" text-anchor=\"middle\">{{label}}</text>\n";
constexpr std::string_view kYTick =
    "<line class=\"axis\" x1=\"{{x2}}\" y1=\"{{y}}\" x2=\"{{x}}\" y2=\"{{y}}\"/>"
    "<text x=\"{{label_x}}\" y=\"{{label_y}}\" text-anchor=\"end\">{{label}}</text>\n";
constexpr std::string_view kPolyline =
    "<polyline class=\"line c{{colour}}\" points=\"{{points}}\"><title>{{label}}</title></polyline>\n";
constexpr std::string_view kMarker =
    "<line class=\"marker\" x1=\"{{x}}\" y1=\"{{top}}\" x2=\"{{x}}\" y2=\"{{bottom}}\"><title>{{label}}</title></line>"
    "<text x=\"{{label_x}}\" y=\"{{label_y}}\" fill=\"#8a1010\">{{label}}</text>\n";
constexpr std::string_view kLegend =
    "<line class=\"line c{{colour}}\" x1=\"{{x}}\" y1=\"11\" x2=\"{{x2}}\" y2=\"11\"/>"
    "<text x=\"{{label_x}}\" y=\"15\">{{label}}</text>\n";

std::string attribute(const std::string& name, const std::string& value) {
  return value.empty() ? "" : " " + name + "=\"" + escape_html(value) + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

Html fill(std::string_view tmpl, const Fields& fields) { return Html{render(tmpl, fields)}; }

}  // namespace

std::string escape_html(std::string_view text) { return escape_markup(text); }

Fields& Fields::text(const std::string& name, const std::string& value) {
  values_[name] = escape_html(value);
  return *this;
}

Fields& Fields::html(const std::string& name, const Html& value) {
  values_[name] = value.markup;
  return *this;
}

std::string render(std::string_view tmpl, const Fields& fields) {
  std::string out;
  out.reserve(tmpl.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) throw Error::internal("html template: '{{' without '}}'");
    out.append(tmpl.substr(pos, open - pos));
    const std::string name(tmpl.substr(open + 2, close - open - 2));
    const auto it = fields.values().find(name);
    if (it == fields.values().end()) throw Error::internal("html template: no value for {{" + name + "}}");
    out += it->second;
    pos = close + 2;
  }
  out.append(tmpl.substr(pos));
  return out;
}

Html page(const std::string& title, const Html& body) {
  return fill(kPage, Fields()
                         .text("title", title)
                         .html("style", Html{std::string(kStyle)})
                         .html("script", Html{std::string(kScript)})
                         .html("body", body));
}

Html text(const std::string& value) { return Html{escape_html(value)}; }
Html code(const std::string& value) { return fill(kCode, Fields().text("value", value)); }
Html link(const std::string& href, const std::string& label) {
  return fill(kLink, Fields().text("href", href).text("label", label));
}
Html paragraph(const Html& content, const std::string& id) {
  return fill(kParagraph, Fields().html("id", Html{attribute("id", id)}).html("content", content));
}
Html section(const std::string& title, const Html& content, const std::string& id) {
  return fill(kSection, Fields().html("id", Html{attribute("id", id)}).text("title", title).html("content", content));
}
Html details(const std::string& summary, const Html& content) {
  return fill(kDetails, Fields().text("summary", summary).html("content", content));
}
Html verdict(const std::string& verdict, const std::string& summary) {
  std::string css = verdict;
  for (char& c : css) c = (c == ' ') ? '_' : c;
  return fill(kVerdict, Fields().text("verdict", css).text("verdict_text", verdict).text("summary", summary));
}
Html labelled_value(const std::string& label, const std::string& value, const std::string& id) {
  return fill(kLabelled, Fields().text("label", label).text("value", value).text("id", id));
}
Html note(const std::string& value) { return fill(kNote, Fields().text("value", value)); }

Cell cell(const std::string& value) { return Cell{text(value), ""}; }
Cell cell(const Html& content, const std::string& sort_key) { return Cell{content, sort_key}; }

Html table(const std::string& id, const std::vector<std::string>& headings, const std::vector<Row>& rows,
           TableKind kind) {
  Html head, body;
  for (const auto& h : headings) head += fill(kHeading, Fields().text("text", h));
  for (const auto& row : rows) {
    Html cells;
    for (const auto& c : row.cells) {
      cells += fill(kCell, Fields().html("sort", Html{attribute("data-sort", c.sort_key)}).html("content", c.content));
    }
    std::string attributes;
    for (const auto& [name, value] : row.attributes) attributes += " " + name + "=\"" + escape_html(value) + "\"";
    body += fill(kRow, Fields()
                           .html("class", Html{attribute("class", row.css_class)})
                           .html("attributes", Html{attributes})
                           .html("cells", cells));
  }
  return fill(kTable, Fields()
                          .html("id", Html{attribute("id", id)})
                          .html("class", Html{kind == TableKind::kSortable ? " class=\"sortable\"" : ""})
                          .html("headings", head)
                          .html("rows", body));
}

Html key_values(const std::vector<std::pair<std::string, std::string>>& rows, const std::string& id) {
  std::vector<Row> out;
  for (const auto& [k, v] : rows) out.push_back(Row{{cell(k), cell(v)}, {}, ""});
  return table(id, {"field", "value"}, out);
}

Html index_controls() { return Html{std::string(kIndexControls)}; }
Html pick_box(const std::string& run_id) { return fill(kPickBox, Fields().text("id", run_id)); }
Html comparison_item(const std::string& href, const std::string& a, const std::string& b, const std::string& verdict,
                     const std::string& summary) {
  return fill(kComparisonItem,
              Fields().text("href", href).text("a", a).text("b", b).text("verdict", verdict).text("summary", summary));
}
Html comparison_list(const Html& items) { return fill(kComparisonList, Fields().html("items", items)); }
Html differences_toggle(const std::string& table_id) { return fill(kToggle, Fields().text("table", table_id)); }

Html chart(const std::string& id, const std::string& title, const std::vector<Polyline>& lines,
           const std::vector<Tick>& x_ticks, const std::vector<Tick>& y_ticks, const std::vector<Marker>& markers) {
  const double left = kChartLeft, right = kChartWidth - kChartRight, top = kChartTop,
               bottom = kChartHeight - kChartBottom;
  Html ticks, polylines, marks, legend;
  for (const auto& t : x_ticks) {
    ticks += fill(kXTick, Fields()
                              .text("x", number(t.position))
                              .text("y", number(bottom))
                              .text("y2", number(bottom + 4))
                              .text("label_y", number(bottom + 16))
                              .text("label", t.label));
  }
  for (const auto& t : y_ticks) {
    ticks += fill(kYTick, Fields()
                              .text("x", number(left))
                              .text("x2", number(left - 4))
                              .text("y", number(t.position))
                              .text("label_x", number(left - 6))
                              .text("label_y", number(t.position + 4))
                              .text("label", t.label));
  }
  double legend_x = right - 150.0 * static_cast<double>(lines.size());
  for (const auto& l : lines) {
    polylines += fill(
        kPolyline, Fields().text("colour", std::to_string(l.colour)).text("points", l.points).text("label", l.label));
    legend += fill(kLegend, Fields()
                                .text("colour", std::to_string(l.colour))
                                .text("x", number(legend_x))
                                .text("x2", number(legend_x + 18))
                                .text("label_x", number(legend_x + 22))
                                .text("label", l.label));
    legend_x += 150;
  }
  for (const auto& m : markers) {
    marks += fill(kMarker, Fields()
                               .text("x", number(m.x))
                               .text("top", number(top))
                               .text("bottom", number(bottom))
                               .text("label_x", number(m.x + 4))
                               .text("label_y", number(top + 12))
                               .text("label", m.label));
  }
  const Html axes = fill(kAxes, Fields()
                                    .text("left", number(left))
                                    .text("right", number(right))
                                    .text("top", number(top))
                                    .text("bottom", number(bottom)));
  return fill(kChart, Fields()
                          .text("id", id)
                          .text("title", title)
                          .text("width", std::to_string(kChartWidth))
                          .text("height", std::to_string(kChartHeight))
                          .text("left", number(left))
                          .html("axes", axes)
                          .html("ticks", ticks)
                          .html("lines", polylines)
                          .html("markers", marks)
                          .html("legend", legend));
}

}  // namespace repro::internal
