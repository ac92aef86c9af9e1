// The regression gate's report as text, Markdown or JSON (compare.hpp).
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "compare.hpp"
#include "json.hpp"
#include "mfgrad/message.hpp"
#include "mfgrad/types.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

// Terminal columns of UTF-8 text (µ, ±): every byte but continuation bytes.
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char ch) { return (ch & 0xc0) != 0x80; }));
}

// "1.234 ± 0.012 ms (n=7)": four significant digits of the median, the MAD to the same decimals, in
// one unit for both sides of a line.
std::string format_times(const SampleSummary& s, detail::DurationUnit unit) {
  const double median = s.median / unit.seconds, mad = s.mad / unit.seconds;
  const int decimals = detail::duration_decimals(median);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f ± %.*f %s (n=%zu)", decimals, median, decimals, mad, unit.name, s.n);
  return buf;
}

std::string format_percent(double fraction, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.*f%%", decimals, 100 * fraction);
  return buf;
}

// "10%", "2.5%": thresholds as the user typed them.
std::string format_threshold(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", 100 * fraction);
  return buf;
}

std::string describe(const Report::Side& side) {
  return side.path + " (" + side.format + ", " + std::to_string(side.benchmarks) +
         (side.benchmarks == 1 ? " benchmark)" : " benchmarks)");
}

// Text from a results file, shown on one line whatever it holds (control bytes escaped).
std::string printable(const std::string& text) {
  const std::string quoted = quote(text, 160);
  return quoted.substr(1, quoted.size() - 2);
}

// One cell per benchmark and column, the header first: what the text and Markdown tables share.
struct Column {
  bool right_aligned;
  std::vector<std::string> cells;
};

std::vector<Column> table_columns(const Report& report, bool any_time, bool any_instructions) {
  std::vector<Column> columns;
  const auto add_column = [&](const std::string& header, bool right_aligned, auto cell_of) {
    Column column{right_aligned, {header}};
    for (const Comparison& c : report.rows) column.cells.push_back(cell_of(c));
    columns.push_back(std::move(column));
  };
  // One unit per row, so that both sides read alike.
  const auto unit_of = [](const Comparison& c) {
    return detail::duration_unit(c.baseline ? c.baseline->median : c.contender ? c.contender->median : 1);
  };
  add_column("verdict", false, [](const Comparison& c) { return std::string(to_string(c.verdict)); });
  add_column("benchmark", false, [](const Comparison& c) { return c.name; });
  if (any_time) {
    add_column("baseline median ± MAD", true,
               [&](const Comparison& c) { return c.baseline ? format_times(*c.baseline, unit_of(c)) : "-"; });
    add_column("contender median ± MAD", true,
               [&](const Comparison& c) { return c.contender ? format_times(*c.contender, unit_of(c)) : "-"; });
    add_column("change", true, [](const Comparison& c) { return c.change ? format_percent(*c.change, 1) : "-"; });
    add_column("p", true, [](const Comparison& c) { return c.p ? format_p(*c.p) : "-"; });
  }
  if (any_instructions)
    add_column("instructions", true, [](const Comparison& c) {
      return c.instructions_change ? format_percent(*c.instructions_change, 2) : "-";
    });
  add_column("note", false, [](const Comparison& c) { return c.note; });
  return columns;
}

std::string criteria_text(const CompareOptions& opt, bool any_time, bool any_instructions) {
  std::string criteria;
  if (any_time)
    criteria = "time: a change of the median beyond ±" + format_threshold(opt.threshold) + " with Mann–Whitney p < " +
               format_p(opt.alpha);
  if (any_instructions)
    criteria += (criteria.empty() ? "" : "; ") +
                ("instructions: a change beyond ±" + format_threshold(opt.instructions_threshold));
  return criteria;
}

std::string summary_text(const Report& report) {
  std::string counts;
  for (Verdict v : {Verdict::regression, Verdict::failed, Verdict::missing, Verdict::inconclusive, Verdict::improvement,
                    Verdict::unchanged, Verdict::added})
    if (const std::size_t n = report.count(v))
      counts += (counts.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(v);
  return std::to_string(report.rows.size()) + (report.rows.size() == 1 ? " benchmark: " : " benchmarks: ") + counts;
}

std::string verdict_text(const Report& report) {
  if (report.passed()) {
    std::string out = "PASS: no regression, failed check or missing benchmark";
    if (const std::size_t n = report.count(Verdict::inconclusive))
      out += " (" + std::to_string(n) + " inconclusive: see their notes)";
    return out + ".";
  }
  std::string what;
  for (Verdict v : {Verdict::regression, Verdict::failed, Verdict::missing})
    if (const std::size_t n = report.count(v))
      what += (what.empty() ? "" : ", ") + std::to_string(n) + " " + to_string(v);
  return "FAIL: " + what + "; the gate fails on regressions, failed checks and missing benchmarks.";
}

// "the runs' contexts differ: cpu 'A' vs 'B'; compiler ...": one sentence for every difference.
std::string context_warning(const Report& report) {
  std::string out = "the two runs' contexts differ, so their figures may differ for that reason alone: ";
  for (std::size_t i = 0; i < report.context_differences.size(); ++i) {
    const ContextDifference& d = report.context_differences[i];
    out += (i ? "; " : "") + d.key + " " + quote(d.baseline) + " vs " + quote(d.contender);
  }
  return out;
}

std::string as_text(const Report& report, bool any_time, bool any_instructions) {
  const std::vector<Column> columns = table_columns(report, any_time, any_instructions);
  std::string out = "baseline:  " + printable(describe(report.baseline)) +
                    "\ncontender: " + printable(describe(report.contender)) + "\n";
  if (!report.context_differences.empty()) out += "warning: " + context_warning(report) + "\n";
  const std::string criteria = criteria_text(report.options, any_time, any_instructions);
  out += criteria.empty() ? "\n" : criteria + "\n\n";
  for (std::size_t row = 0; row <= report.rows.size(); ++row) {
    std::string line;
    for (std::size_t col = 0; col < columns.size(); ++col) {
      const std::string& cell = columns[col].cells[row];
      if (col + 1 == columns.size()) {
        line += cell;
        break;
      }
      std::size_t width = 0;
      for (const std::string& s : columns[col].cells) width = std::max(width, display_width(s));
      const std::string pad(width - display_width(cell), ' ');
      line += columns[col].right_aligned ? pad + cell : cell + pad;
      line += "  ";
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out + "\nsummary: " + summary_text(report) + "\n" + verdict_text(report) + "\n";
}

// A table cell: '|' would end it and a newline the row; backslashes and backquotes are taken literally.
std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char ch : printable(text)) {
    if (ch == '|' || ch == '\\' || ch == '`' || ch == '*' || ch == '_' || ch == '<' || ch == '[') out += '\\';
    out += ch;
  }
  return out;
}

std::string as_markdown(const Report& report, bool any_time, bool any_instructions) {
  const std::vector<Column> columns = table_columns(report, any_time, any_instructions);
  std::string out = std::string("### mfgrad compare: ") + (report.passed() ? "PASS" : "FAIL") + "\n\n" +
                    markdown_cell(verdict_text(report)) + "\n\n" +
                    "- baseline: " + markdown_cell(describe(report.baseline)) +
                    "\n- contender: " + markdown_cell(describe(report.contender)) + "\n";
  if (const std::string criteria = criteria_text(report.options, any_time, any_instructions); !criteria.empty())
    out += "- criteria: " + markdown_cell(criteria) + "\n";
  out += "- summary: " + markdown_cell(summary_text(report)) + "\n";
  if (!report.context_differences.empty()) out += "\n> **Warning:** " + markdown_cell(context_warning(report)) + "\n";
  out += "\n|";
  for (const Column& c : columns) out.append(" ").append(markdown_cell(c.cells[0])).append(" |");
  out += "\n|";
  for (const Column& c : columns) out += c.right_aligned ? " ---: |" : " --- |";
  out += "\n";
  for (std::size_t row = 1; row <= report.rows.size(); ++row) {
    out += "|";
    for (const Column& c : columns) out.append(" ").append(markdown_cell(c.cells[row])).append(" |");
    out += "\n";
  }
  return out;
}

json::Value optional_number(const std::optional<double>& v) { return v ? json::Value(*v) : json::Value(); }

json::Value summary_json(const std::optional<SampleSummary>& s) {
  if (!s) return {};
  json::Value v;
  v["median_s"] = s->median;
  v["mad_s"] = s->mad;
  v["n"] = s->n;
  return v;
}

json::Value side_json(const Report::Side& side) {
  json::Value v;
  v["path"] = side.path;
  v["format"] = side.format;
  v["benchmarks"] = side.benchmarks;
  json::Value context = json::Object{};
  for (const ContextEntry& e : side.context) context[e.key] = e.value;
  v["context"] = context;
  return v;
}

std::string as_json(const Report& report) {
  json::Value doc;
  doc["mfgrad_compare"] = 1;
  doc["passed"] = report.passed();
  doc["baseline"] = side_json(report.baseline);
  doc["contender"] = side_json(report.contender);
  json::Value criteria;
  criteria["threshold"] = report.options.threshold;
  criteria["alpha"] = report.options.alpha;
  criteria["instructions_threshold"] = report.options.instructions_threshold;
  criteria["filter"] = report.options.filter ? json::Value(*report.options.filter) : json::Value();
  doc["criteria"] = criteria;
  json::Array differences;
  for (const ContextDifference& d : report.context_differences) {
    json::Value v;
    v["key"] = d.key;
    v["baseline"] = d.baseline;
    v["contender"] = d.contender;
    differences.push_back(v);
  }
  doc["context_differences"] = differences;
  json::Value counts = json::Object{};
  for (Verdict v : {Verdict::regression, Verdict::failed, Verdict::missing, Verdict::inconclusive, Verdict::improvement,
                    Verdict::unchanged, Verdict::added})
    counts[to_string(v)] = report.count(v);
  doc["counts"] = counts;
  json::Array rows;
  for (const Comparison& c : report.rows) {
    json::Value v;
    v["name"] = c.name;
    v["verdict"] = to_string(c.verdict);
    v["baseline"] = summary_json(c.baseline);
    v["contender"] = summary_json(c.contender);
    v["change"] = optional_number(c.change);
    v["p"] = optional_number(c.p);
    v["instructions_change"] = optional_number(c.instructions_change);
    v["note"] = c.note;
    rows.push_back(v);
  }
  doc["rows"] = rows;
  return doc.dump(2) + "\n";
}

}  // namespace

ReportFormat parse_report_format(std::string_view name) {
  if (name == "text") return ReportFormat::text;
  if (name == "markdown") return ReportFormat::markdown;
  if (name == "json") return ReportFormat::json;
  throw Error("unknown report format " + quote(name) + "; expected text, markdown or json");
}

std::string format_report(const Report& report, ReportFormat format) {
  const bool any_time = std::any_of(report.rows.begin(), report.rows.end(),
                                    [](const Comparison& c) { return c.baseline || c.contender; });
  const bool any_instructions = std::any_of(report.rows.begin(), report.rows.end(),
                                            [](const Comparison& c) { return c.instructions_change.has_value(); });
  switch (format) {
    case ReportFormat::markdown:
      return as_markdown(report, any_time, any_instructions);
    case ReportFormat::json:
      return as_json(report);
    case ReportFormat::text:
      break;
  }
  return as_text(report, any_time, any_instructions);
}

}  // namespace mfgrad::bench
