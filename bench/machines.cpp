// `mfgrad report`: several results files side by side (machines.hpp).
#include "machines.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "json.hpp"
#include "mfgrad/types.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

namespace fs = std::filesystem;

struct Case {
  double median_s = 0;
  double gflops = 0;
  double fraction_of_peak = NAN;
};

// (data set, dtype, k, implementation) → threads → the case.
using Key = std::tuple<std::string, std::string, long, std::string>;

struct Run {
  std::string path, label;
  json::Value context, ceilings;
  std::map<Key, std::map<int, Case>> cases;
  std::map<std::string, double> nnz;  // per data set
};

std::string text_of(const json::Value& object, std::string_view key) {
  const json::Value* v = object.find(key);
  if (v == nullptr || v->is_null()) return "-";
  return v->is_string() ? v->as_string() : v->dump();  // numbers in full: λ 0.1 and 0.1000001 differ
}

std::string mfgrad_version(const Run& run) {
  const json::Value* versions = run.context.find("versions");
  return versions ? text_of(*versions, "mfgrad") : "-";
}

Run load(const std::string& path) {
  Run run;
  run.path = path;
  const json::Value doc = json::parse_file(path);
  if (doc.find("mfgrad_results") == nullptr || doc.find("results") == nullptr)
    throw Error(path + ": not a results file of `mfgrad bench --json` (no \"mfgrad_results\")");
  if (const json::Value* c = doc.find("context")) run.context = *c;
  if (const json::Value* c = doc.find("ceilings")) run.ceilings = *c;
  for (const json::Value& r : doc.find("results")->as_array()) {
    if (r.find("instructions") != nullptr && !r.find("instructions")->is_null())
      throw Error(path + ": holds instruction counts (bench --instructions), not times; report compares times");
    const json::Value* median = r.find("median_s");
    if (median == nullptr || !median->is_number() || !(median->as_number() > 0)) continue;
    const std::string dataset = r.find("dataset")->as_string(), dtype = r.find("dtype")->as_string();
    const Key key{dataset, dtype, static_cast<long>(r.find("k")->as_number()), r.find("impl")->as_string()};
    Case c;
    c.median_s = median->as_number();
    if (const json::Value* g = r.find("gflops"); g && g->is_number()) c.gflops = g->as_number();
    if (const json::Value* f = r.find("fraction_of_peak"); f && f->is_number()) c.fraction_of_peak = f->as_number();
    run.cases[key][static_cast<int>(r.find("threads")->as_number())] = c;
    const double nnz = r.find("nnz")->as_number();
    if (auto [it, added] = run.nnz.emplace(dataset, nnz); !added && it->second != nnz)
      throw Error(path + ": data set '" + dataset + "' has two different entry counts in one file");
  }
  if (run.cases.empty()) throw Error(path + ": no timed result to report");
  return run;
}

// Labels: the file names without .json, made unique with their position when two coincide.
void label(std::vector<Run>& runs) {
  std::map<std::string, int> seen;
  for (const Run& r : runs) ++seen[fs::path(r.path).stem().string()];
  for (std::size_t x = 0; x < runs.size(); ++x) {
    const std::string stem = fs::path(runs[x].path).stem().string();
    runs[x].label = seen[stem] > 1 ? stem + "#" + std::to_string(x + 1) : stem;
  }
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", 100 * fraction);
  return buf;
}

std::string fixed(double value, int decimals, const char* suffix = "") {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f%s", decimals, value, suffix);
  return buf;
}

// A row of the context table: one value per run, and whether they differ.
struct ContextRow {
  std::string name;
  std::vector<std::string> values;
  bool compared;  // part of the "differ" warning (what changes results), not just a description
};

std::string ceiling_text(const json::Value& ceilings, std::string_view key, const char* unit) {
  const json::Value* per_threads = ceilings.find(key);
  if (per_threads == nullptr || !per_threads->is_object()) return "-";
  std::string out;
  for (const auto& [threads, value] : per_threads->as_object())
    if (value.is_number())
      out += (out.empty() ? "" : ", ") + fixed(value.as_number(), 0) + " " + unit + " (" + threads + " t)";
  return out.empty() ? "-" : out;
}

// The thread counts a run measured, "1, 2".
std::string threads_measured(const Run& run) {
  std::set<int> threads;
  for (const auto& [key, by_threads] : run.cases)
    for (const auto& [t, c] : by_threads) threads.insert(t);
  std::string out;
  for (int t : threads) out += (out.empty() ? "" : ", ") + std::to_string(t);
  return out;
}

}  // namespace

std::vector<std::string> machines_report(const std::vector<std::string>& files, const std::string& dir,
                                         const MachinesOptions& options) {
  if (files.empty()) throw Error("report: no results files given");
  std::vector<Run> runs;
  for (const std::string& f : files) runs.push_back(load(f));
  label(runs);

  // What cannot be compared is refused, naming both files.
  for (std::size_t x = 1; x < runs.size(); ++x) {
    if (!options.allow_mixed_versions && mfgrad_version(runs[x]) != mfgrad_version(runs[0]))
      throw Error("report: " + runs[0].path + " comes from mfgrad " + mfgrad_version(runs[0]) + " and " + runs[x].path +
                  " from mfgrad " + mfgrad_version(runs[x]) +
                  "; rerun one of them, or pass --allow-mixed-versions to compare them anyway (flagged)");
    for (const auto& [dataset, nnz] : runs[x].nnz)
      for (const Run& other : runs)
        if (auto it = other.nnz.find(dataset); it != other.nnz.end() && it->second != nnz)
          throw Error("report: data set '" + dataset + "' has " + fixed(it->second, 0) + " entries in " + other.path +
                      " and " + fixed(nnz, 0) + " in " + runs[x].path + ": not the same data");
  }

  std::set<Key> keys;
  for (const Run& r : runs)
    for (const auto& [key, by_threads] : r.cases) keys.insert(key);
  std::size_t shared = 0;
  for (const Key& key : keys)
    shared += std::all_of(runs.begin(), runs.end(), [&](const Run& r) { return r.cases.count(key) > 0; });
  if (runs.size() > 1 && shared == 0)
    throw Error("report: the runs have no data set, dtype, k and implementation in common");

  fs::create_directories(dir);
  std::vector<std::string> written;
  std::ostringstream md;
  md << "# mfgrad: " << runs.size() << (runs.size() == 1 ? " run" : " runs") << " side by side\n\n";
  md << "Made by `mfgrad report` from";
  for (const Run& r : runs) md << " `" << r.path << "`";
  md << ". Per data set, dtype and k: each run's median time per evaluation at its most threads (T), "
        "GFLOP/s (6·k flops per entry), the share of that run's own measured FMA peak at T threads, the "
        "speedup from 1 to T threads, and the first run's time divided by this run's (above 1: faster than "
        "`"
     << runs[0].label << "`). **Bold**: the fastest run of the row.\n\n";

  // The machines, side by side.
  auto context_value = [](const Run& r, std::string_view key) { return text_of(r.context, key); };
  std::vector<ContextRow> rows = {{"CPU", {}, true},
                                  {"hardware threads", {}, true},
                                  {"SIMD level", {}, true},
                                  {"MFGRAD_ISA", {}, true},
                                  {"compiler", {}, true},
                                  {"flags", {}, true},
                                  {"peer flags", {}, true},
                                  {"mfgrad", {}, true},
                                  {"OMP_PROC_BIND", {}, true},
                                  {"OMP_PLACES", {}, true},
                                  {"OMP_NUM_THREADS", {}, true},
                                  {"seed", {}, true},
                                  {"λ", {}, true},
                                  {"FP32 FMA peak", {}, false},
                                  {"FP64 FMA peak", {}, false},
                                  {"read bandwidth", {}, false},
                                  {"git revision", {}, false},
                                  {"date", {}, false},
                                  {"command", {}, false},
                                  {"threads measured", {}, true}};
  for (const Run& r : runs) {
    const std::vector<std::string> values = {context_value(r, "cpu"),
                                             context_value(r, "hardware_threads"),
                                             context_value(r, "isa"),
                                             context_value(r, "mfgrad_isa"),
                                             context_value(r, "compiler"),
                                             context_value(r, "flags"),
                                             context_value(r, "peer_flags"),
                                             mfgrad_version(r),
                                             context_value(r, "omp_proc_bind"),
                                             context_value(r, "omp_places"),
                                             context_value(r, "omp_num_threads"),
                                             context_value(r, "seed"),
                                             context_value(r, "lambda"),
                                             ceiling_text(r.ceilings, "fp32_gflops", "GFLOP/s"),
                                             ceiling_text(r.ceilings, "fp64_gflops", "GFLOP/s"),
                                             ceiling_text(r.ceilings, "bandwidth_gbs", "GB/s"),
                                             context_value(r, "git_revision"),
                                             context_value(r, "date"),
                                             "`" + context_value(r, "command") + "`",
                                             threads_measured(r)};
    for (std::size_t x = 0; x < rows.size(); ++x) rows[x].values.push_back(values[x]);
  }
  md << "## The runs\n\n|  |";
  for (const Run& r : runs) md << " " << r.label << " |";
  md << "\n|---|";
  for (std::size_t x = 0; x < runs.size(); ++x) md << "---|";
  md << "\n";
  std::vector<std::string> differ;
  for (const ContextRow& row : rows) {
    // A run that does not state a fact ("-", an older results file) differs from none.
    std::set<std::string> stated(row.values.begin(), row.values.end());
    stated.erase("-");
    const bool differs = stated.size() > 1;
    if (differs && row.compared) differ.push_back(row.name);
    md << "| " << row.name << " |";
    for (const std::string& v : row.values) md << " " << v << " |";
    md << "\n";
  }
  md << "\n";
  if (!differ.empty() && runs.size() > 1) {
    md << "**The runs differ in:** ";
    for (std::size_t x = 0; x < differ.size(); ++x) md << (x ? ", " : "") << differ[x];
    md << ". Ratios between them measure those differences together.\n\n";
  }
  if (options.allow_mixed_versions && differ.end() != std::find(differ.begin(), differ.end(), "mfgrad"))
    md << "**Different mfgrad versions** (--allow-mixed-versions): the implementations themselves may differ.\n\n";

  // Per (data set, dtype, k): a table and a plot of GFLOP/s per implementation and run.
  std::map<std::tuple<std::string, std::string, long>, std::vector<std::string>> blocks;
  for (const Key& key : keys)
    blocks[{std::get<0>(key), std::get<1>(key), std::get<2>(key)}].push_back(std::get<3>(key));
  const bool gnuplot = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  if (!gnuplot) throw Error("report: the plots need gnuplot: install the Debian package gnuplot-nox");
  for (auto& [block, impls] : blocks) {
    // Named copies, not structured bindings: clang 14 cannot capture those in a lambda.
    const std::string& dataset = std::get<0>(block);
    const std::string& dtype = std::get<1>(block);
    const long k = std::get<2>(block);
    auto top = [&](const Run& r, const std::string& impl) -> const Case* {
      auto it = r.cases.find({dataset, dtype, k, impl});
      return it == r.cases.end() ? nullptr : &it->second.rbegin()->second;
    };
    // Fastest first in the first run that has the implementation.
    std::stable_sort(impls.begin(), impls.end(), [&](const std::string& a, const std::string& b) {
      for (const Run& r : runs) {
        const Case *ca = top(r, a), *cb = top(r, b);
        if (ca && cb) return ca->median_s < cb->median_s;
      }
      return false;
    });
    md << "## " << dataset << ", " << dtype << ", k = " << k << "\n\n| implementation |";
    for (const Run& r : runs) {
      md << " " << r.label << ": time | GFLOP/s | % peak | 1 → T |";
      if (&r != &runs[0])
        md << " ×"
           << " |";
    }
    md << "\n|---|";
    for (std::size_t x = 0; x < runs.size(); ++x) md << (x ? "---|---|---|---|---|" : "---|---|---|---|");
    md << "\n";
    const std::string stem = dataset + "_" + dtype + "_k" + std::to_string(k);
    const fs::path data = fs::path(dir) / (stem + ".dat");
    std::ofstream dat(data);
    dat << "impl";
    for (const Run& r : runs) dat << " \"" << r.label << "\"";
    dat << "\n";
    for (const std::string& impl : impls) {
      double fastest = HUGE_VAL;
      for (const Run& r : runs)
        if (const Case* c = top(r, impl)) fastest = std::min(fastest, c->median_s);
      md << "| " << impl << " |";
      dat << impl;
      const Case* first = top(runs[0], impl);
      for (const Run& r : runs) {
        const Case* c = top(r, impl);
        if (c == nullptr) {
          md << " - | - | - | - |" << (&r != &runs[0] ? " - |" : "");
          dat << " NaN";
          continue;
        }
        const auto& by_threads = r.cases.at({dataset, dtype, k, impl});
        const int threads = by_threads.rbegin()->first;
        const std::string time = detail::format_duration(c->median_s) + " (" + std::to_string(threads) + " t)";
        md << " " << (c->median_s == fastest && runs.size() > 1 ? "**" + time + "**" : time) << " | "
           << fixed(c->gflops, 1) << " | " << percent(c->fraction_of_peak) << " | ";
        auto one = by_threads.find(1);
        md << (one != by_threads.end() && threads > 1 ? fixed(one->second.median_s / c->median_s, 2, "×") : "-")
           << " |";
        if (&r != &runs[0]) md << " " << (first ? fixed(first->median_s / c->median_s, 2, "×") : "-") << " |";
        dat << " " << c->gflops;
      }
      md << "\n";
      dat << "\n";
    }
    dat.close();
    const fs::path script = fs::path(dir) / (stem + ".gp");
    const std::string png = stem + ".png";
    {
      std::ofstream g(script);
      g << "set terminal pngcairo noenhanced size " << std::max<std::size_t>(700, 90 * impls.size() * runs.size())
        << ",480 font 'sans,11'\nset output '" << (fs::path(dir) / png).string() << "'\n"
        << "set title 'GFLOP/s at each run''s most threads: " << dataset << ", " << dtype << ", k = " << k
        << " (higher is better)'\n"
        << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
        << "set ylabel 'GFLOP/s'\nset yrange [0:*]\nset grid ytics\nset key top right\nset xtics rotate by -30\n"
        << "set datafile missing 'NaN'\nplot '" << data.string() << "' using 2:xtic(1) title columnhead";
      for (std::size_t c = 3; c <= runs.size() + 1; ++c) g << ", '' using " << c << " title columnhead";
      g << "\n";
    }
    const std::string log = (fs::path(dir) / "gnuplot.log").string();
    if (std::system(("gnuplot '" + script.string() + "' 2>'" + log + "'").c_str()) != 0)
      throw Error("report: gnuplot failed on " + script.string() + " (see " + log + ")");
    fs::remove(log);
    fs::remove(script);
    fs::remove(data);
    md << "\n![GFLOP/s, " << dataset << ", " << dtype << ", k = " << k << "](" << png << ")\n\n";
    written.push_back((fs::path(dir) / png).string());
  }
  const std::string report = (fs::path(dir) / "report.md").string();
  detail::write_file_atomically(report, md.str());
  written.insert(written.begin(), report);
  return written;
}

}  // namespace mfgrad::bench
