#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "compare.hpp"
#include "probes.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string thousands(std::int64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t x = 0; x < s.size(); ++x) {
    if (x > 0 && (s.size() - x) % 3 == 0) out += ',';
    out += s[x];
  }
  return out;
}

using GroupKey = std::tuple<std::string, std::string, std::size_t>;  // dataset, dtype, k

GroupKey group_of(const Record& r) { return {r.dataset, r.dtype, r.k}; }

const std::map<int, double>& peak_for(const Ceilings& c, const std::string& dtype) {
  return dtype == "float64" ? c.fp64_gflops : c.fp32_gflops;
}

std::string peaks_line(const char* what, const std::map<int, double>& m, const char* unit) {
  std::string s = what;
  for (const auto& [t, v] : m) {
    s.append(" ").append(std::to_string(t)).append(t == 1 ? " thread " : " threads ").append(fixed(v, 1)).append(",");
  }
  if (!m.empty()) s.pop_back();
  return s.append(unit);
}

}  // namespace

Ceilings measure_ceilings(const std::vector<int>& threads, bool fp64) {
  Ceilings c;
  for (int t : std::set<int>(threads.begin(), threads.end())) {
    const FmaPeak p32 = measure_fma_peak(Precision::f32, t);
    c.fp32_gflops[t] = p32.gflops;
    c.isa = p32.isa;
    c.vector_bits = p32.vector_bits;
    if (fp64) c.fp64_gflops[t] = measure_fma_peak(Precision::f64, t).gflops;
    c.bandwidth_gbs[t] = measure_bandwidth(t).read_gbs;
  }
  return c;
}

std::vector<Summary> summarize(const std::vector<Record>& records, const Ceilings& ceilings) {
  std::vector<Summary> rows;
  for (const Record& r : records) {
    Summary s;
    s.record = r;
    if (!r.samples_s.empty()) {
      const SampleSummary spread = summarize_samples(r.samples_s);
      s.median_s = spread.median;
      s.mad_s = spread.mad;
      s.min_s = *std::min_element(r.samples_s.begin(), r.samples_s.end());
      s.entries_per_s = static_cast<double>(r.nnz) / s.median_s;
      if (r.kind != "bound" && r.kind != "refresh") {
        s.gflops = detail::flops_per_entry(r.k) * s.entries_per_s * 1e-9;
        const auto& peaks = peak_for(ceilings, r.dtype);
        if (auto it = peaks.find(r.threads); it != peaks.end() && it->second > 0)
          s.fraction_of_peak = s.gflops / it->second;
      }
    }
    rows.push_back(std::move(s));
  }
  for (Summary& s : rows) {
    if (s.median_s <= 0 || s.record.kind == "bound" || s.record.kind == "refresh") continue;
    std::optional<double> naive, best_peer;
    for (const Summary& o : rows) {
      if (group_of(o.record) != group_of(s.record) || o.median_s <= 0 || !o.record.passed) continue;
      if (o.record.kind == "bound" && o.record.threads == s.record.threads)
        s.fraction_of_bound = o.median_s / s.median_s;
      if (o.record.impl == oracle().name) naive = o.median_s;
      if (o.record.kind == "peer" && o.record.threads == s.record.threads && (!best_peer || o.median_s < *best_peer))
        best_peer = o.median_s;
    }
    if (naive) s.speedup_vs_naive = *naive / s.median_s;
    if (best_peer) s.speedup_vs_best_peer = *best_peer / s.median_s;
  }
  return rows;
}

std::string render_table(const std::vector<Summary>& rows, const Ceilings& ceilings, const json::Value& context) {
  std::ostringstream out;
  auto str = [&](const char* key) {
    const json::Value* v = context.find(key);
    return v != nullptr && v->is_string() ? v->as_string() : std::string("?");
  };
  out << "mfgrad bench: " << str("cpu") << ", " << context.find("hardware_threads")->as_number()
      << " hardware threads, SIMD " << str("isa") << ", git " << str("git_revision") << "\n";
  out << "built with " << str("compiler") << " (" << str("flags") << "); peers add: " << str("peer_flags") << "\n";
  out << peaks_line("measured FP32 FMA peak (GFLOP/s):", ceilings.fp32_gflops, "") << "\n";
  if (!ceilings.fp64_gflops.empty())
    out << peaks_line("measured FP64 FMA peak (GFLOP/s):", ceilings.fp64_gflops, "") << "\n";
  out << peaks_line("measured memory read bandwidth (GB/s):", ceilings.bandwidth_gbs, "") << "\n";

  std::vector<GroupKey> groups;
  for (const Summary& s : rows)
    if (std::find(groups.begin(), groups.end(), group_of(s.record)) == groups.end())
      groups.push_back(group_of(s.record));
  for (const GroupKey& g : groups) {
    std::vector<const Summary*> block;
    for (const Summary& s : rows)
      if (group_of(s.record) == g) block.push_back(&s);
    std::stable_sort(block.begin(), block.end(), [](const Summary* a, const Summary* b) {
      if (a->record.threads != b->record.threads) return a->record.threads < b->record.threads;
      // The bound and the refresh lead their thread count's rows; then the fastest first.
      const int ra = a->record.kind == "bound" ? 0 : a->record.kind == "refresh" ? 1 : 2;
      const int rb = b->record.kind == "bound" ? 0 : b->record.kind == "refresh" ? 1 : 2;
      if (ra != rb) return ra < rb;
      const double ta = a->median_s > 0 ? a->median_s : HUGE_VAL, tb = b->median_s > 0 ? b->median_s : HUGE_VAL;
      return ta < tb;
    });
    const auto& [dataset, dtype, k] = g;
    const std::int64_t nnz = block.front()->record.nnz;
    out << "\n"
        << dataset << ", " << dtype << ", k = " << k << " (" << thousands(nnz) << " entries, "
        << detail::flops_per_entry(k) << " flops each)\n";
    int name_width = 16;  // wider for names like tiled_simd@baseline (mfgrad bench --isa)
    for (const Summary* s : block) name_width = std::max(name_width, static_cast<int>(s->record.impl.size()));
    char line[384];
    std::snprintf(line, sizeof line, "  %-*s %7s %12s %6s %12s %9s %7s %8s %9s %9s  %s\n", name_width, "implementation",
                  "threads", "median", "MAD", "M entries/s", "GFLOP/s", "% peak", "% bound", "vs naive", "vs peer",
                  "check");
    out << line;
    for (const Summary* s : block) {
      const Record& r = s->record;
      auto ratio = [](const std::optional<double>& v) {
        return v ? fixed(*v, *v < 10 ? 2 : 1) + "x" : std::string("-");
      };
      if (r.samples_s.empty()) {
        std::snprintf(line, sizeof line, "  %-*s %7d %12s %6s %12s %9s %7s %8s %9s %9s  %s\n", name_width,
                      r.impl.c_str(), r.threads, "-", "-", "-", "-", "-", "-", "-", "-",
                      r.passed                         ? "not timed"
                      : r.error.starts_with("skipped") ? r.error.c_str()
                                                       : ("FAILED: " + r.error).c_str());
      } else {
        const bool probe = r.kind == "bound" || r.kind == "refresh";
        const auto percent = [](const std::optional<double>& v) {
          return v ? fixed(100 * *v, 1) + "%" : std::string("-");
        };
        std::snprintf(line, sizeof line, "  %-*s %7d %12s %5s%% %12s %9s %7s %8s %9s %9s  %s\n", name_width,
                      r.impl.c_str(), r.threads, detail::format_duration(s->median_s).c_str(),
                      fixed(100 * s->mad_s / s->median_s, 1).c_str(), fixed(s->entries_per_s * 1e-6, 1).c_str(),
                      probe ? "-" : fixed(s->gflops, 1).c_str(), percent(s->fraction_of_peak).c_str(),
                      percent(s->fraction_of_bound).c_str(), ratio(s->speedup_vs_naive).c_str(),
                      ratio(s->speedup_vs_best_peer).c_str(),
                      r.kind == "bound" ? "ceiling"
                      : r.passed        ? "ok"
                                        : "FAILED");
      }
      out << line;
    }
    for (const Summary* s : block)
      if (!s->record.note.empty())
        out << "  " << s->record.impl << " (" << s->record.threads << " threads) " << s->record.note << "\n";
  }
  return out.str();
}

json::Value results_json(const std::vector<Summary>& rows, const Ceilings& ceilings, const json::Value& context) {
  json::Value doc;
  doc["mfgrad_results"] = 1;
  doc["context"] = context;
  auto by_threads = [](const std::map<int, double>& m) {
    json::Value v = json::Object{};
    for (const auto& [t, x] : m) v[std::to_string(t)] = x;
    return v;
  };
  json::Value c;
  c["isa"] = ceilings.isa;
  c["vector_bits"] = ceilings.vector_bits;
  c["fp32_gflops"] = by_threads(ceilings.fp32_gflops);
  c["fp64_gflops"] = by_threads(ceilings.fp64_gflops);
  c["bandwidth_gbs"] = by_threads(ceilings.bandwidth_gbs);
  doc["ceilings"] = c;
  json::Array results;
  for (const Summary& s : rows) {
    const Record& r = s.record;
    json::Value x;
    x["name"] = r.name;
    x["impl"] = r.impl;
    x["kind"] = r.kind;
    x["dataset"] = r.dataset;
    x["dtype"] = r.dtype;
    x["k"] = r.k;
    x["threads"] = r.threads;
    x["nnz"] = r.nnz;
    json::Array samples;
    for (double t : r.samples_s) samples.emplace_back(t);
    x["samples_s"] = samples;
    auto opt = [](const std::optional<double>& v) { return v ? json::Value(*v) : json::Value(); };
    const bool timed = !r.samples_s.empty();
    x["median_s"] = timed ? json::Value(s.median_s) : json::Value();
    x["min_s"] = timed ? json::Value(s.min_s) : json::Value();
    x["mad_s"] = timed ? json::Value(s.mad_s) : json::Value();
    x["gflops"] = timed ? json::Value(s.gflops) : json::Value();
    x["entries_per_s"] = timed ? json::Value(s.entries_per_s) : json::Value();
    x["fraction_of_peak"] = opt(s.fraction_of_peak);
    x["fraction_of_bound"] = opt(s.fraction_of_bound);
    x["speedup_vs_naive"] = opt(s.speedup_vs_naive);
    x["speedup_vs_best_peer"] = opt(s.speedup_vs_best_peer);
    x["check"] = r.passed ? std::string("passed") : r.error.starts_with("skipped") ? r.error : "failed: " + r.error;
    if (r.instructions) x["instructions"] = *r.instructions;
    if (!r.note.empty()) x["note"] = r.note;
    results.push_back(std::move(x));
  }
  doc["results"] = results;
  return doc;
}

std::vector<std::string> plot(const std::vector<Summary>& rows, const Ceilings& ceilings, const std::string& dir) {
  namespace fs = std::filesystem;
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0)
    throw Error("--plot needs gnuplot: install the Debian package gnuplot-nox");
  fs::create_directories(dir);
  std::vector<std::string> written;
  std::set<std::pair<std::string, std::string>> sets;  // (dataset, dtype)
  for (const Summary& s : rows)
    if (s.median_s > 0) sets.insert({s.record.dataset, s.record.dtype});

  for (const auto& [dataset, dtype] : sets) {
    std::vector<const Summary*> mine;
    std::set<std::size_t> ks;
    std::set<int> threads;
    std::vector<std::string> impls;
    for (const Summary& s : rows)
      if (s.record.dataset == dataset && s.record.dtype == dtype && s.median_s > 0) {
        mine.push_back(&s);
        ks.insert(s.record.k);
        threads.insert(s.record.threads);
        if (std::find(impls.begin(), impls.end(), s.record.impl) == impls.end()) impls.push_back(s.record.impl);
      }
    const int top = *threads.rbegin();
    const std::string stem = dataset + "_" + dtype;
    auto find = [&](const std::string& impl, std::size_t k, int t) -> const Summary* {
      for (const Summary* s : mine)
        if (s->record.impl == impl && s->record.k == k && (s->record.threads == t || s->record.impl == oracle().name))
          return s;
      return nullptr;
    };
    // Fastest first at the largest k, so the bars read as a ranking.
    std::stable_sort(impls.begin(), impls.end(), [&](const std::string& a, const std::string& b) {
      const Summary *sa = find(a, *ks.rbegin(), top), *sb = find(b, *ks.rbegin(), top);
      return (sa ? sa->median_s : HUGE_VAL) < (sb ? sb->median_s : HUGE_VAL);
    });

    // 1. Median time per implementation at the most threads, one bar per k.
    const fs::path times = fs::path(dir) / (stem + "_time.dat");
    {
      std::ofstream f(times);
      f << "impl";
      for (std::size_t k : ks) f << " k=" << k;
      f << "\n";
      for (const std::string& impl : impls) {
        f << impl;
        for (std::size_t k : ks) {
          const Summary* s = find(impl, k, top);
          f << " " << (s ? std::to_string(s->median_s * 1e3) : "NaN");
        }
        f << "\n";
      }
    }
    // 2. GFLOP/s against threads, one panel per k, the measured peak dashed.
    const fs::path scaling = fs::path(dir) / (stem + "_gflops.dat");
    {
      std::ofstream f(scaling);
      for (std::size_t k : ks) {
        for (const std::string& impl : impls) {
          f << "# k=" << k << " " << impl << "\n";
          for (int t : threads)
            if (const Summary* s = find(impl, k, t); s && (s->record.threads == t)) f << t << " " << s->gflops << "\n";
          f << "\n\n";
        }
      }
      f << "# peak\n";
      for (const auto& [t, g] : peak_for(ceilings, dtype))
        if (threads.count(t)) f << t << " " << g << "\n";
    }
    const fs::path script = fs::path(dir) / (stem + ".gp");
    const std::string time_png = (fs::path(dir) / (stem + "_time.png")).string();
    const std::string gflops_png = (fs::path(dir) / (stem + "_gflops.png")).string();
    {
      std::ofstream g(script);
      g << "set terminal pngcairo noenhanced size 1100,620 font 'sans,11'\n"
        << "set output '" << time_png << "'\n"
        << "set title 'mfgrad: median time per evaluation, " << dataset << ", " << dtype << ", " << top
        << (top == 1 ? " thread" : " threads") << " (naive: 1), lower is better'\n"
        << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.85 border -1\n"
        << "set logscale y\nset ylabel 'milliseconds (log scale)'\nset grid ytics\nset key top left\n"
        << "set xtics rotate by -30\nset datafile missing 'NaN'\n"
        << "plot '" << times.string() << "' using 2:xtic(1) title columnhead";
      for (std::size_t c = 3; c <= ks.size() + 1; ++c) g << ", '' using " << c << " title columnhead";
      g << "\n\nreset\nset terminal pngcairo noenhanced size " << 520 * ks.size() << ",520 font 'sans,11'\n"
        << "set output '" << gflops_png << "'\n"
        << "set multiplot layout 1," << ks.size() << " title 'mfgrad: GFLOP/s against threads, " << dataset << ", "
        << dtype << " (6k flops per entry; dashed: measured FMA peak)'\n"
        << "set xlabel 'threads'\nset ylabel 'GFLOP/s'\nset grid\nset key top left font ',9'\nset logscale y\n"
        << "set xtics (";
      bool first = true;
      for (int t : threads) g << (first ? "" : ", ") << t, first = false;
      g << ")\nset xrange [" << *threads.begin() - 0.5 << ":" << top + 0.5 << "]\n";
      std::size_t block = 0;
      for (std::size_t k : ks) {
        g << "set title 'k = " << k << "'\nplot ";
        for (std::size_t x = 0; x < impls.size(); ++x)
          g << (x ? ", " : "") << "'" << scaling.string() << "' index " << block + x
            << " using 1:2 with linespoints lw 2 dt " << x / 8 + 1  // colours repeat after eight: dash the rest
            << " title '" << impls[x] << "'";
        g << ", '" << scaling.string() << "' index " << ks.size() * impls.size()
          << " using 1:2 with lines dt 2 lc rgb 'black' title 'peak'\n";
        block += impls.size();
      }
      g << "unset multiplot\n";
    }
    const std::string cmd = "gnuplot '" + script.string() + "' 2>'" + (fs::path(dir) / "gnuplot.log").string() + "'";
    if (std::system(cmd.c_str()) != 0)
      throw Error("gnuplot failed on " + script.string() + " (see " + (fs::path(dir) / "gnuplot.log").string() + ")");
    fs::remove(fs::path(dir) / "gnuplot.log");
    written.push_back(time_png);
    written.push_back(gflops_png);
  }
  return written;
}

}  // namespace mfgrad::bench
