// Private: every piece of markup, CSS and script of the HTML report, and the substitution
// engine that fills them. Nothing outside this module writes a tag: the site_*.cc files say
// what goes on a page, this module how it looks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace repro::internal {

// Markup this module generated (trusted), as opposed to a std::string of text, which is always
// escaped where it lands.
struct Html {
  std::string markup;
  Html& operator+=(const Html& other) {
    markup += other.markup;
    return *this;
  }
};
inline Html operator+(Html a, const Html& b) { return a += b; }

// `text` with & < > " ' replaced by entities, so that it reads as text in an element or a
// quoted attribute; control characters other than \n and \t are dropped.
std::string escape_html(std::string_view text);

// The values of a template's {{name}} placeholders: text (escaped) or Html (inserted as is).
class Fields {
 public:
  Fields& text(const std::string& name, const std::string& value);
  Fields& html(const std::string& name, const Html& value);
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;  // already escaped
};

// `tmpl` with each {{name}} replaced by its field. Throws Error (internal) naming the
// placeholder when a field is missing or a {{ is not closed (a bug in this module).
std::string render(std::string_view tmpl, const Fields& fields);

// A whole page: the document, the CSP, the style sheet and the script, a navigation line back
// to the index, `title` as its heading and `body` under it.
Html page(const std::string& title, const Html& body);

// Building blocks.
Html text(const std::string& value);  // escaped text, no element
Html code(const std::string& value);  // <code>
Html link(const std::string& href, const std::string& label);
Html paragraph(const Html& content, const std::string& id = "");
Html section(const std::string& title, const Html& content, const std::string& id = "");
Html details(const std::string& summary, const Html& content);         // collapsed by default
Html verdict(const std::string& verdict, const std::string& summary);  // id="verdict"
Html labelled_value(const std::string& label, const std::string& value, const std::string& id);
Html note(const std::string& value);  // a muted line

// A table row: its cells, and attributes for the script (data-equal="1", data-a="..."). Cell
// sort keys: a cell may carry one (data-sort) so that numbers sort as numbers.
struct Cell {
  Html content;
  std::string sort_key;  // empty: the text
};
struct Row {
  std::vector<Cell> cells;
  std::vector<std::pair<std::string, std::string>> attributes;  // names are ours, values escaped
  std::string css_class;
};
Cell cell(const std::string& value);  // escaped text
Cell cell(const Html& content, const std::string& sort_key = "");
// `sortable`: clicking a heading sorts by that column.
enum class TableKind { kPlain, kSortable };
Html table(const std::string& id, const std::vector<std::string>& headings, const std::vector<Row>& rows,
           TableKind kind = TableKind::kPlain);
// Name/value rows (a record's fields).
Html key_values(const std::vector<std::pair<std::string, std::string>>& rows, const std::string& id = "");

// The index: the filter box and the picker that opens a comparison of two checked runs.
Html index_controls();
Html pick_box(const std::string& run_id);  // a row's checkbox
// One generated comparison: what the picker looks up (data-a, data-b are run ids).
Html comparison_item(const std::string& href, const std::string& a, const std::string& b, const std::string& verdict,
                     const std::string& summary);
Html comparison_list(const Html& items);  // id="comparisons"
// The comparison page's "only differences" toggle for the table `table_id`.
Html differences_toggle(const std::string& table_id);

// SVG charts. Coordinates are in the chart's own pixels (kChartWidth x kChartHeight, the plot
// area inset by the margins); `points` is "x,y x,y ...".
inline constexpr int kChartWidth = 900;
inline constexpr int kChartHeight = 260;
inline constexpr int kChartLeft = 70, kChartRight = 20, kChartTop = 24, kChartBottom = 36;
struct Polyline {
  std::string points;
  int colour = 0;  // 0 run A (blue), 1 run B (orange), 2 the difference (red)
  std::string label;
};
struct Tick {
  double position = 0;  // pixels along the axis
  std::string label;
};
struct Marker {
  double x = 0;
  std::string label;  // "first divergence: step 12"
};
Html chart(const std::string& id, const std::string& title, const std::vector<Polyline>& lines,
           const std::vector<Tick>& x_ticks, const std::vector<Tick>& y_ticks, const std::vector<Marker>& markers);

}  // namespace repro::internal
