// Registration, the timed loop, the oracle check and the records behind every benchmark table.
#include "harness.hpp"

#include <fcntl.h>
#include <omp.h>
#include <oneapi/tbb/version.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <xsimd/config/xsimd_config.hpp>

#include "kernel_author.hpp"
#include "mfgrad/check.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/generate.hpp"
#include "mfgrad/memory.hpp"
#include "mfgrad/plan.hpp"
#include "peers.hpp"
#include "probes.hpp"
#include "revision.hpp"
#include "util.hpp"

namespace mfgrad::bench {

namespace {

const char* case_prefix(Precision dtype) {
  switch (dtype) {
    case Precision::f64:
      return "eval_f64";
    case Precision::bf16:
      return "eval_bf16";
    case Precision::f16:
      return "eval_f16";
    default:
      return "eval";
  }
}

std::string case_name(const std::string& impl, const std::string& dataset, std::size_t k, int threads,
                      Precision dtype) {
  return std::string(case_prefix(dtype)) + "/" + impl + "/" + dataset + "/k:" + std::to_string(k) +
         "/threads:" + std::to_string(threads);
}

// A copy in 64-byte aligned storage: factor rows that start on a cache line, as a caller who cares about
// speed allocates them (and as NumPy, PyTorch and Eigen do), for every implementation and peer alike.
template <class T>
Buffer<T> aligned(const std::vector<T>& x) {
  Buffer<T> b(x.size());
  std::copy(x.begin(), x.end(), b.data());
  return b;
}

// Factors, the oracle's answer and its error bounds for one (dataset, k, precision). For 16-bit
// storage, `master` holds the float32 factors the stored ones are rounded from (the optimizer's copy),
// which the refresh row rounds again.
template <class T>
struct Reference {
  using C = compute_t<T>;
  Buffer<T> u, v;
  double loss = 0;
  std::vector<C> grad_u, grad_v;  // the oracle's
  Buffer<C> out_u, out_v;         // what the case under test writes
  ErrorBounds bounds;
  Buffer<float> master_u, master_v;
  Buffer<T> refreshed_u, refreshed_v;
};

struct LoadedData {
  explicit LoadedData(Dataset d) : data(std::move(d)) {}
  Dataset data;
  std::map<std::size_t, std::unique_ptr<Reference<float>>> f32;
  std::map<std::size_t, std::unique_ptr<Reference<double>>> f64;
  std::map<std::size_t, std::unique_ptr<Reference<bfloat16>>> bf16;
  std::map<std::size_t, std::unique_ptr<Reference<float16>>> f16;
  int cases_left = 0;
};

template <class T>
Reference<T>& reference(LoadedData& d, std::size_t k, const Config& config) {
  auto& slot = by_precision<T>(d.f32, d.f64, d.bf16, d.f16)[k];
  if (slot) return *slot;
  const Observed& obs = d.data.observed;
  const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
  auto r = std::make_unique<Reference<T>>();
  r->u = aligned(random_factor<T>(m, k, config.seed));
  r->v = aligned(random_factor<T>(n, k, config.seed + 1));
  r->grad_u.resize(m * k);
  r->grad_v.resize(n * k);
  r->out_u.reset(m * k);
  r->out_v.reset(n * k);
  Workspace ws(1);
  r->loss = evaluate<T>(oracle(), obs, {r->u.data(), m, k}, {r->v.data(), n, k}, config.lambda,
                        {r->grad_u.data(), m, k}, {r->grad_v.data(), n, k}, ws);
  r->bounds = error_bounds<T>(obs, r->u.data(), r->v.data(), k, config.lambda);
  if constexpr (sizeof(T) == 2) {
    r->master_u = aligned(random_factor<float>(m, k, config.seed));
    r->master_v = aligned(random_factor<float>(n, k, config.seed + 1));
    r->refreshed_u.reset(m * k);
    r->refreshed_v.reset(n * k);
  }
  slot = std::move(r);
  return *slot;
}

struct Case {
  std::size_t record;   // its Record (name, impl, kind, k, threads, …): the one place those are kept
  std::string dataset;  // as given (a preset or a file path; the record keeps its label)
  Precision dtype;
  EvalFn<float> f32;
  EvalFn<double> f64;
  EvalFn<bfloat16> bf16;
  EvalFn<float16> f16;
  std::unique_ptr<Workspace> ws;
  std::unique_ptr<GatherBound> bound;  // kind "bound": prepared (and calibrated) before the first run
  std::unique_ptr<Plan> plan;          // kind "plan": made (and, for "plan", measured) before the first evaluation
  std::optional<Isa> isa;              // the SIMD level it runs at (--isa); unset: the default
  const Kernel* kernel = nullptr;      // kind "mfgrad": the implementation
  bool checked = false;
  std::string error;
};

template <class T>
EvalFn<T> fn_of(const Case& c) {
  return by_precision<T>(c.f32, c.f64, c.bf16, c.f16);
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

}  // namespace

struct Suite::State {
  Config config;
  std::vector<std::unique_ptr<Case>> cases;
  std::map<std::string, std::unique_ptr<LoadedData>> data;
  std::vector<Record> records;
  std::map<std::string, std::size_t> record_of;  // case name → index in records

  LoadedData& load(const std::string& name) {
    auto& slot = data[name];
    if (!slot) {
      slot = std::make_unique<LoadedData>(load_dataset(name));
      for (const auto& c : cases) slot->cases_left += c->dataset == name;
    }
    return *slot;
  }

  // What the case will allocate before it is timed, checked against what this process may use; an
  // OutOfMemory names it. The reference (factors, the oracle's gradients in T and their bounds in double,
  // the case's outputs, the oracle's double accumulators) is counted while it is still to be made; a
  // plan counts its own (mfgrad::Plan); a peer is taken to need the largest implementation's scratch
  // and a copy of Ω in its own format.
  template <class T>
  void check_case_memory(const Case& c, const Record& rec, const LoadedData& d) const {
    const Observed& obs = d.data.observed;
    const std::size_t k = rec.k, cells = (static_cast<std::size_t>(obs.rows()) + obs.cols()) * k;
    MemoryNeed need;
    if (by_precision<T>(d.f32, d.f64, d.bf16, d.f16).count(k) == 0) {
      need.factors = 3 * cells * sizeof(T);
      need.gradients = 2 * cells * sizeof(double);
    }
    if (rec.kind == "mfgrad" && c.kernel != nullptr)
      need.scratch =
          kernel_memory(*c.kernel, obs.rows(), obs.cols(), obs.nnz(), k, precision_of<T>(), rec.threads).scratch;
    else if (rec.kind == "peer")
      need.scratch = evaluation_memory(obs.rows(), obs.cols(), obs.nnz(), k, precision_of<T>(), rec.threads).scratch +
                     static_cast<std::size_t>(obs.nnz()) * (2 * sizeof(std::int64_t) + sizeof(T));
    check_memory(need, rec.name);
  }

  template <class T>
  void run(benchmark::State& st, Case& c) {
    // A case that cannot fit is skipped with a line in the table, not ended by the out-of-memory killer
    // (and its later repetitions allocate nothing either).
    if (c.error.starts_with("skipped")) {
      st.SkipWithError(c.error.c_str());
      return;
    }
    try {
      run_case<T>(st, c);
    } catch (const OutOfMemory& e) {
      c.checked = true;
      c.error = std::string("skipped: ") + e.what();
      st.SkipWithError(c.error.c_str());
    }
  }

  template <class T>
  void run_case(benchmark::State& st, Case& c) {
    std::optional<ScopedSimdLevel> level;
    if (c.isa) level.emplace(*c.isa);
    Record& rec = records[c.record];
    const std::size_t k = rec.k;
    LoadedData& d = load(c.dataset);
    rec.nnz = d.data.observed.nnz();
    if (!c.checked) check_case_memory<T>(c, rec, d);
    Reference<T>& ref = reference<T>(d, k, config);
    const Observed& obs = d.data.observed;
    const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
    rec.nnz = obs.nnz();
    const double nnz = static_cast<double>(obs.nnz());
    if (rec.kind == "bound" || rec.kind == "refresh") {
      run_probe<T>(st, c, ref, obs);
      return;
    }
    if (!c.ws) c.ws = std::make_unique<Workspace>(rec.threads);
    const Problem<T> p{obs, ref.u.data(), ref.v.data(), k, config.lambda, ref.out_u.data(), ref.out_v.data()};
    const EvalFn<T> fn = fn_of<T>(c);
    if (rec.kind == "plan" && !c.plan) {
      c.plan =
          std::make_unique<Plan>(obs, k, precision_of<T>(),
                                 PlanOptions{.threads = rec.threads,
                                             .mode = rec.impl == plan_name ? PlanMode::measure : PlanMode::estimate,
                                             .seconds_per_candidate = 0.2});
      rec.note = "picked " + c.plan->choice() + "; " + c.plan->reason();
    }
    const auto evaluate_once = [&] {
      return c.plan ? c.plan->evaluate<T>({p.u, m, k}, {p.v, n, k}, p.lambda, {p.grad_u, m, k}, {p.grad_v, n, k})
                    : fn(p, *c.ws);
    };
    if (!c.checked) {
      c.checked = true;
      validate<T>(obs, {p.u, m, k}, {p.v, n, k}, p.lambda, {p.grad_u, m, k}, {p.grad_v, n, k});
      using C = compute_t<T>;
      std::fill_n(ref.out_u.data(), ref.out_u.size(), std::numeric_limits<C>::quiet_NaN());
      std::fill_n(ref.out_v.data(), ref.out_v.size(), std::numeric_limits<C>::quiet_NaN());
      const double loss = evaluate_once();  // also the warm-up: preparation happens here, untimed
      const CheckReport report = check<C>(obs, k, ref.bounds, {ref.loss, ref.grad_u.data(), ref.grad_v.data()},
                                          {loss, ref.out_u.data(), ref.out_v.data()});
      if (!report.passed) c.error = "disagrees with the oracle: " + report.message;
    }
    if (!c.error.empty()) {
      st.SkipWithError(c.error.c_str());
      return;
    }
    for (auto _ : st) {
      double loss = evaluate_once();
      benchmark::DoNotOptimize(loss);
      benchmark::ClobberMemory();
    }
    st.counters["entries/s"] = benchmark::Counter(nnz, benchmark::Counter::kIsIterationInvariantRate);
    st.counters["GFLOP/s"] =
        benchmark::Counter(detail::flops_per_entry(k) * nnz * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  }

  // The rows beside the implementations: the gather bound (GatherBound, at the stored row size) and,
  // for 16-bit storage, the optimizer's refresh (round_to of the float32 U and V into the stored copy).
  template <class T>
  void run_probe(benchmark::State& st, Case& c, Reference<T>& ref, const Observed& obs) {
    const Record& rec = records[c.record];
    if (rec.kind == "bound") {
      if (!c.bound) c.bound = std::make_unique<GatherBound>(obs, rec.k * sizeof(T), rec.threads);
      for (auto _ : st) c.bound->run();
    } else if constexpr (sizeof(T) == 2) {
      const std::span<const float> mu(ref.master_u.data(), ref.master_u.size()),
          mv(ref.master_v.data(), ref.master_v.size());
      const std::span<T> ru(ref.refreshed_u.data(), ref.refreshed_u.size()),
          rv(ref.refreshed_v.data(), ref.refreshed_v.size());
      if (!c.checked) {  // the refreshed copy must be the stored one, bit for bit
        c.checked = true;
        round_to(mu, ru, rec.threads);
        round_to(mv, rv, rec.threads);
        if (!std::equal(ru.begin(), ru.end(), ref.u.data(), [](T a, T b) { return a.bits == b.bits; }) ||
            !std::equal(rv.begin(), rv.end(), ref.v.data(), [](T a, T b) { return a.bits == b.bits; }))
          c.error = "round_to disagrees with the rounding of the stored factors";
      }
      if (!c.error.empty()) {
        st.SkipWithError(c.error.c_str());
        return;
      }
      for (auto _ : st) {
        round_to(mu, ru, rec.threads);
        round_to(mv, rv, rec.threads);
        benchmark::ClobberMemory();
      }
    }
    st.counters["entries/s"] =
        benchmark::Counter(static_cast<double>(obs.nnz()), benchmark::Counter::kIsIterationInvariantRate);
  }

  void finished(const std::string& case_name) {
    for (const auto& c : cases)
      if (records[c->record].name == case_name) {
        c->ws.reset();
        c->plan.reset();
        c->bound.reset();
        auto it = data.find(c->dataset);
        if (it != data.end() && --it->second->cases_left <= 0) data.erase(it);  // free memory early
      }
  }
};

Config default_config() {
  Config c;
  c.datasets = {"netflix-25m"};
  c.ks = {64};
  const int hw = std::max(1, omp_get_num_procs());
  c.threads = hw > 1 ? std::vector<int>{1, hw} : std::vector<int>{1};
  c.impls = all_impls();
  c.peers = all_peers();
  c.reps = 5;
  c.min_time = 0.2;
  return c;
}

std::vector<std::string> all_impls() {
  std::vector<std::string> names;
  for (const Kernel& k : registry())
    if (k.supported()) names.push_back(k.name);
  names.emplace_back(plan_name);
  names.emplace_back(plan_estimate_name);
  return names;
}

std::vector<std::string> all_peers() {
  std::vector<std::string> names;
  for (const Peer& p : peers()) names.push_back(p.name);
  return names;
}

json::Value machine_context() {
  json::Value c;
  c["cpu"] = cpu_model();
  c["hardware_threads"] = static_cast<int>(std::thread::hardware_concurrency());
  c["isa"] = simd_arch_name();
  c["cpu_best_isa"] = to_string(cpu_best_isa());
  c["mfgrad_isa"] = env_or("MFGRAD_ISA", "unset");
  c["omp_proc_bind"] = env_or("OMP_PROC_BIND", "unset");
  c["omp_places"] = env_or("OMP_PLACES", "unset");
  c["omp_num_threads"] = env_or("OMP_NUM_THREADS", "unset");
  c["compiler"] = MFGRAD_COMPILER;
  c["flags"] = MFGRAD_FLAGS;
  c["peer_flags"] = MFGRAD_PEER_FLAGS;  // added to `flags` for the peers only
  json::Value versions;
  versions["mfgrad"] = MFGRAD_VERSION;
  versions["xsimd"] = std::to_string(XSIMD_VERSION_MAJOR) + "." + std::to_string(XSIMD_VERSION_MINOR) + "." +
                      std::to_string(XSIMD_VERSION_PATCH);
  versions["onetbb"] = TBB_VERSION_STRING;
  versions["openmp"] = std::to_string(_OPENMP);
  versions["google_benchmark"] = MFGRAD_BENCHMARK_VERSION;
  for (const Peer& p : peers()) versions[p.name] = p.version;
  c["versions"] = versions;
  c["git_revision"] = MFGRAD_GIT_REVISION;
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  c["date"] = date;
  return c;
}

json::Value run_context(const Config& config) {
  json::Value c = machine_context();
  c["seed"] = std::to_string(config.seed);
  c["lambda"] = config.lambda;
  return c;
}

Suite::Suite(Config config) : state_(std::make_unique<State>()) { state_->config = std::move(config); }
Suite::~Suite() = default;

const std::vector<Record>& Suite::records() const { return state_->records; }
const Config& Suite::config() const { return state_->config; }
std::size_t Suite::case_count() const { return state_->cases.size(); }

std::vector<std::string> Suite::blocks() const {
  std::vector<std::string> filters;
  for (const auto& c : state_->cases) {
    const Record& r = state_->records[c->record];
    // Case names are eval[_f64]/<impl>/<dataset>/k:<k>/threads:<t>; a block is everything but impl:
    // its cases' repetitions interleave, so every row compared side by side sees the same drift, and
    // a thread count's workspaces, plans and peers' copies of Ω are freed before the next one's are
    // made (all of them at once took 6.6 GB resident on netflix-25m at k = 64). Regex metacharacters
    // in a data set's file name are escaped.
    std::string dataset;
    for (char ch : r.name.substr(r.name.find('/', r.name.find('/') + 1) + 1)) {
      if (ch == '/') break;
      if (std::string_view("\\^$.|?*+()[]{}").find(ch) != std::string_view::npos) dataset += '\\';
      dataset += ch;
    }
    const std::string filter = "^" + r.name.substr(0, r.name.find('/')) + "/[^/]+/" + dataset +
                               "/k:" + std::to_string(r.k) + "/threads:" + std::to_string(r.threads) + "(/|$)";
    if (std::find(filters.begin(), filters.end(), filter) == filters.end()) filters.push_back(filter);
  }
  return filters;
}

void Suite::register_cases() {
  State& s = *state_;
  const Config& cfg = s.config;
  const int min_threads = cfg.threads.empty() ? 1 : *std::min_element(cfg.threads.begin(), cfg.threads.end());
  for (const std::string& dataset : cfg.datasets) {
    const std::string label =
        std::filesystem::exists(dataset) ? std::filesystem::path(dataset).filename().string() : dataset;
    for (Precision dtype : cfg.dtypes)
      for (std::size_t k : cfg.ks) {
        const auto add = [&](const std::string& impl, const char* kind, const Kernel* kern, const Peer* peer, int t) {
          auto c = std::make_unique<Case>();
          c->dataset = dataset;
          c->dtype = dtype;
          c->kernel = kern;
          if (kern != nullptr) {
            c->f32 = code(*kern).f32;
            c->f64 = code(*kern).f64;
            c->bf16 = code(*kern).bf16;
            c->f16 = code(*kern).f16;
          } else if (peer != nullptr) {
            c->f32 = peer->f32;
            c->f64 = peer->f64;
          }
          c->record = s.records.size();
          Record r;
          r.name = case_name(impl, label, k, t, dtype);
          r.impl = impl;
          r.kind = kind;
          r.dataset = label;
          r.dtype = to_string(dtype);
          r.k = k;
          r.threads = t;
          s.record_of[r.name] = s.records.size();
          s.records.push_back(std::move(r));
          Case* raw = c.get();
          s.cases.push_back(std::move(c));
          auto* b = benchmark::RegisterBenchmark(s.records.back().name.c_str(), [this, raw](benchmark::State& st) {
            with_precision(raw->dtype, [&](auto t) { state_->run<decltype(t)>(st, *raw); });
          });
          b->UseRealTime()->Unit(benchmark::kMillisecond);
          if (cfg.reps) b->Repetitions(*cfg.reps);
          if (cfg.min_time) b->MinTime(*cfg.min_time);
        };
        // The ceiling first, then (16-bit storage) the optimizer's refresh, then the implementations.
        if (cfg.probes)
          for (int t : cfg.threads) add(gather_bound_name, "bound", nullptr, nullptr, t);
        if (cfg.probes && element_bytes(dtype) == 2)
          for (int t : cfg.threads) add(refresh_name, "refresh", nullptr, nullptr, t);
        for (const std::string& impl : cfg.impls) {
          if (impl == plan_name || impl == plan_estimate_name) {
            for (int t : cfg.threads) add(impl, "plan", nullptr, nullptr, t);
            continue;
          }
          const Kernel& kern = kernel(impl);
          // A serial implementation gains nothing from more threads: time it once.
          const bool serial = kern.serial;
          for (int t : cfg.threads) {
            if (serial && t != min_threads) continue;
            if (!code(kern).simd || cfg.isas.empty()) add(impl, "mfgrad", &kern, nullptr, serial ? 1 : t);
            for (Isa isa : code(kern).simd ? cfg.isas : std::vector<Isa>{}) {
              add(impl + "@" + to_string(isa), "mfgrad", &kern, nullptr, serial ? 1 : t);
              s.cases.back()->isa = isa;
            }
          }
        }
        // No peer offers 16-bit factor storage for this objective.
        for (const std::string& name : element_bytes(dtype) == 2 ? std::vector<std::string>{} : cfg.peers) {
          const Peer* peer = nullptr;
          for (const Peer& p : peers())
            if (name == p.name) peer = &p;
          if (peer == nullptr) {
            std::string known;
            for (const Peer& p : peers()) known += (known.empty() ? "" : ", ") + std::string(p.name);
            throw Error("unknown or unavailable peer '" + name + "' (built: " + (known.empty() ? "none" : known) + ")");
          }
          for (int t : cfg.threads) add(name, "peer", nullptr, peer, t);
        }
      }
  }
}

namespace {

class Collector : public benchmark::BenchmarkReporter {
 public:
  Collector(std::vector<Record>& records, std::map<std::string, std::size_t>& index,
            std::function<void(const std::string&)> finished, std::size_t total, bool progress,
            benchmark::BenchmarkReporter* next)
      : records_(records),
        index_(index),
        finished_(std::move(finished)),
        total_(total),
        progress_(progress),
        next_(next) {}

  bool ReportContext(const Context& context) override { return next_ == nullptr || next_->ReportContext(context); }

  void ReportRuns(const std::vector<Run>& runs) override {
    if (next_ != nullptr) next_->ReportRuns(runs);
    std::string name;
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      name = run.run_name.function_name;  // without the min_time:/repeats:/real_time suffixes
      auto it = index_.find(name);
      if (it == index_.end()) continue;
      Record& r = records_[it->second];
      if (run.error_occurred) {
        r.passed = false;
        r.error = run.error_message;
        continue;
      }
      r.passed = true;
      if (run.iterations > 0) r.samples_s.push_back(run.real_accumulated_time / static_cast<double>(run.iterations));
    }
    if (name.empty()) return;
    ++done_;
    if (progress_) {
      const Record& r = records_[index_[name]];
      if (r.passed && !r.samples_s.empty())
        std::fprintf(stderr, "[%zu/%zu] %-52s median %.4g ms\n", done_, total_, name.c_str(),
                     1e3 * detail::median(r.samples_s));
      else
        std::fprintf(stderr, "[%zu/%zu] %-52s ERROR %s\n", done_, total_, name.c_str(), r.error.c_str());
    }
    finished_(name);
  }

  void Finalize() override {
    if (next_ != nullptr) next_->Finalize();
  }

 private:
  std::vector<Record>& records_;
  std::map<std::string, std::size_t>& index_;
  std::function<void(const std::string&)> finished_;
  std::size_t total_, done_ = 0;
  bool progress_;
  benchmark::BenchmarkReporter* next_;
};

}  // namespace

std::unique_ptr<benchmark::BenchmarkReporter> Suite::reporter(bool progress, benchmark::BenchmarkReporter* next) {
  return std::make_unique<Collector>(
      state_->records, state_->record_of, [this](const std::string& name) { state_->finished(name); },
      state_->cases.size(), progress, next);
}

void Suite::evaluate_once_for_callgrind(const std::string& impl, const std::string& dataset, std::size_t k,
                                        Precision dtype, std::uint64_t seed, double lambda) {
  Config cfg;
  cfg.seed = seed;
  cfg.lambda = lambda;
  LoadedData d(load_dataset(dataset));
  const std::size_t at = impl.find('@');  // <impl>@<level>: a row of --isa
  const Kernel& kern = kernel(impl.substr(0, at));
  std::optional<ScopedSimdLevel> level;
  if (at != std::string::npos) level.emplace(parse_isa(impl.substr(at + 1)));
  auto measure = [&](auto tag) {
    using T = decltype(tag);
    Reference<T>& ref = reference<T>(d, k, cfg);
    const Observed& obs = d.data.observed;
    Workspace ws(1);
    const Problem<T> p{obs, ref.u.data(), ref.v.data(), k, lambda, ref.out_u.data(), ref.out_v.data()};
    code(kern).fn<T>()(p, ws);  // warm-up: preparation is not counted
    CALLGRIND_TOGGLE_COLLECT;
    const double loss = code(kern).fn<T>()(p, ws);
    CALLGRIND_TOGGLE_COLLECT;
    const CheckReport report = check<compute_t<T>>(obs, k, ref.bounds, {ref.loss, ref.grad_u.data(), ref.grad_v.data()},
                                                   {loss, ref.out_u.data(), ref.out_v.data()});
    json::Value line;
    line["nnz"] = obs.nnz();
    line["check"] = report.passed ? std::string("passed") : "failed: disagrees with the oracle: " + report.message;
    std::printf("%s\n", line.dump().c_str());
  };
  with_precision(dtype, measure);
}

namespace {

// bench's child for instruction counts (bench/count.cpp): beside the running program in a build tree,
// or in libexec/mfgrad/ when installed (MFGRAD_COUNT_DIR, that folder relative to bin/).
std::filesystem::path counting_child() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find this program's path (/proc/self/exe): " + ec.message());
  const fs::path beside = self.parent_path() / "mfgrad_count";
  const fs::path installed = (self.parent_path() / MFGRAD_COUNT_DIR / "mfgrad_count").lexically_normal();
  for (const fs::path& p : {beside, installed})
    if (::access(p.c_str(), X_OK) == 0) return p;
  throw Error("instruction counts need bench's child program mfgrad_count, found neither at " + beside.string() +
              " nor at " + installed.string() + " (build or install the target mfgrad_count)");
}

// Runs argv (argv[0] looked up in PATH) with one variable of the environment set, its standard error
// written to `log`, its standard output collected in `out`; returns its wait status. Throws when it
// cannot be started.
int run_child(const std::vector<std::string>& argv, const std::pair<std::string, std::string>& setting,
              const std::filesystem::path& log, std::string& out) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e)
    if (!std::string_view(*e).starts_with(setting.first + "=")) env.emplace_back(*e);
  env.push_back(setting.first + "=" + setting.second);
  const auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> p;
    for (std::string& s : strings) p.push_back(s.data());
    p.push_back(nullptr);
    return p;
  };
  std::vector<std::string> args = argv;
  std::vector<char*> arg_ptrs = pointers(args), env_ptrs = pointers(env);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(std::string("cannot make a pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = ::posix_spawnp(&pid, args[0].c_str(), &actions, nullptr, arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    throw Error("cannot run " + args[0] + ": " + std::strerror(spawned) +
                (spawned == ENOENT ? " (is valgrind installed? apt-get install valgrind)" : ""));
  }
  char buf[4096];
  for (;;) {
    const ssize_t got = ::read(pipe_fds[0], buf, sizeof buf);
    if (got > 0) {
      out.append(buf, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

void count_instructions(const Config& config, std::vector<Record>& records) {
  namespace fs = std::filesystem;
  const fs::path child = counting_child();
  const fs::path dir = fs::temp_directory_path() / ("mfgrad_callgrind_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::size_t done = 0, total = 0;
  for (const Record& r : records) total += r.threads == 1;
  for (Record& r : records) {
    if (r.threads != 1 || r.kind != "mfgrad") continue;
    const std::string dataset = [&] {
      for (const std::string& d : config.datasets)
        if (d == r.dataset || fs::path(d).filename().string() == r.dataset) return d;
      return r.dataset;
    }();
    const fs::path out = dir / "callgrind.out";
    // An argument vector, no shell: a data path holding quotes or spaces reaches the child as it is.
    const std::vector<std::string> argv = {"valgrind",
                                           "--tool=callgrind",
                                           "--collect-atstart=no",
                                           "--callgrind-out-file=" + out.string(),
                                           child.string(),
                                           "--impl",
                                           r.impl,
                                           "--data",
                                           dataset,
                                           "--k",
                                           std::to_string(r.k),
                                           "--dtype",
                                           r.dtype,
                                           "--seed",
                                           std::to_string(config.seed),
                                           "--lambda",
                                           format_number(config.lambda)};
    std::string child_out;
    const int status =
        run_child(argv, {"MFGRAD_ISA", cpu_supports(Isa::avx2) ? "avx2" : "baseline"}, dir / "valgrind.log", child_out);
    if (status != 0) {
      std::ifstream log(dir / "valgrind.log");
      std::ostringstream text;
      text << log.rdbuf();
      throw Error("callgrind run for " + r.name +
                  " failed (is valgrind installed? apt-get install valgrind): " + text.str().substr(0, 400));
    }
    std::ifstream in(out);
    std::string line;
    double count = -1;
    while (std::getline(in, line))
      if (line.rfind("summary:", 0) == 0 || line.rfind("totals:", 0) == 0)
        count = std::stod(line.substr(line.find(':') + 1));
    if (count < 0) throw Error("no instruction total in " + out.string());
    r.instructions = count;
    const json::Value verdict = json::parse(child_out);
    const std::string check = verdict.find("check")->as_string();
    r.passed = check == "passed";
    r.nnz = static_cast<std::int64_t>(verdict.find("nnz")->as_number());
    if (!r.passed) r.error = check;
    std::fprintf(stderr, "[%zu/%zu] %-52s %.0f instructions\n", ++done, total, r.name.c_str(), count);
  }
  fs::remove_all(dir);
}

}  // namespace mfgrad::bench
