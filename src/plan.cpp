// Choosing an implementation per problem shape, FFTW-style: estimate, or measure once and remember.
#include "mfgrad/plan.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "format.hpp"
#include "io_detail.hpp"
#include "kernel_author.hpp"
#include "mfgrad/dataset.hpp"
#include "mfgrad/memory.hpp"
#include "plan_pick.hpp"
#include "util.hpp"

namespace mfgrad {

namespace {

struct ShapeKey {
  std::string machine;
  index_t m, n;
  offset_t nnz;
  std::size_t k;
  Precision precision;
  int threads;
  auto tie() const { return std::tie(machine, m, n, nnz, k, precision, threads); }
  bool operator<(const ShapeKey& o) const { return tie() < o.tie(); }
};

struct Choice {
  std::string kernel;
  Workspace::CacheSizes caches;
  double seconds;
};

std::mutex wisdom_mutex;
std::map<ShapeKey, Choice>& wisdom() {
  static std::map<ShapeKey, Choice> w;
  return w;
}

std::string variant_name(const Kernel& k, Workspace::CacheSizes c) {
  std::string name = k.name;
  if (c.l2 != 0) name += " (L2 taken as " + std::to_string(c.l2 >> 10) + " KiB)";
  if (c.l3 != 0) name += " (column bands for a " + std::to_string(c.l3 >> 10) + " KiB L3)";
  return name;
}

// The implementation the shape suggests, and why: every supported implementation with a prefers
// column ranks the shape, and preferred() (internal/kernel_author.hpp, Fit) says which answer wins.
template <class Fits>
std::pair<const Kernel*, std::string> estimate(const Observed& obs, std::size_t k, Precision precision, int threads,
                                               const Fits& fits) {
  const std::size_t bytes = element_bytes(precision), compute = precision == Precision::f64 ? 8 : 4;
  const ShapeHint shape{obs.nnz(), obs.rows(), obs.cols(), k, bytes, compute, simd_bytes() / compute, threads};
  const bool half = bytes == 2;
  const Kernel* pick = nullptr;
  Preference best;
  for (const Kernel& kern : registry()) {
    // 16-bit factors: only the implementations that read them in their own loops (the others widen
    // whole copies of U and V first and are never faster).
    const KernelCode& c = code(kern);
    if (c.prefers == nullptr || !kern.supported() || !fits(kern) || (half && !c.native_half)) continue;
    const Preference p = c.prefers(shape);
    if (preferred(p, best)) pick = &kern, best = p;
  }
  if (pick == nullptr) {
    for (const Kernel& kern : registry())
      if (kern.supported() && !kern.oracle && fits(kern) && (pick == nullptr || code(kern).tier > code(*pick).tier))
        pick = &kern;
    return {pick, "estimated: the best-tier implementation this CPU supports"};
  }
  const std::size_t row_bytes = (k * bytes + 63) / 64 * 64;
  const bool whole = k % shape.lanes == 0;
  const double per_column = static_cast<double>(obs.nnz()) / std::max<double>(1, obs.cols());
  return {pick, "estimated: factor rows of " + std::to_string(row_bytes) + " bytes, k = " + std::to_string(k) +
                    (whole ? " (a" : " (not a") + " whole number of " + std::to_string(shape.lanes) +
                    "-lane batches), " + std::to_string(static_cast<long long>(per_column)) +
                    " entries per column: " + best.why};
}

}  // namespace

struct Plan::State {
  Observed obs;  // a copy: it shares Ω with the caller's, and keeps it alive as long as the plan
  std::size_t k;
  Precision precision;
  const Kernel* kernel = nullptr;
  Workspace::CacheSizes caches;
  std::string reason;
  std::vector<PlanCandidate> candidates;
  std::unique_ptr<Workspace> ws;
  bool from_wisdom = false;
  MemoryLimit limit;
  std::atomic<bool> busy{false};  // an evaluation is running: a second one at once is refused

  // What `kern` needs to be prepared and run here (the plan's own factors and gradients included).
  MemoryNeed need(const Kernel& kern) const {
    return kernel_memory(kern, obs.rows(), obs.cols(), obs.nnz(), k, precision, ws->threads(), true);
  }
  bool fits(const Kernel& kern) const { return need(kern).total() <= limit.bytes; }
  std::string problem() const {
    return std::to_string(obs.rows()) + " x " + std::to_string(obs.cols()) + ", " + std::to_string(obs.nnz()) +
           " entries, k = " + std::to_string(k) + ", " + to_string(precision) + " on " + std::to_string(ws->threads()) +
           " threads";
  }
  std::string limit_text() const {
    return "the " + format_bytes(limit.bytes) + " this process may use (" + limit.source + ")";
  }

  ShapeKey key() const { return {machine_signature(), obs.rows(), obs.cols(), obs.nnz(), k, precision, ws->threads()}; }

  // Every candidate is prepared and run once (untimed), timed once to drop the hopeless (over twice
  // the best), then the rest are timed round-robin — one burst of each per round — so that the
  // machine's drift (other work, clocks) falls on all of them alike. A burst is an untimed evaluation
  // (the candidate's own data back in cache, as when an optimizer calls it step after step) and then
  // enough timed ones to last about 2 ms. The budget is per candidate.
  template <class T>
  void measure(const PlanOptions& options) {
    using clock = std::chrono::steady_clock;
    const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
    Buffer<T> u(m * k), v(n * k);
    Buffer<compute_t<T>> gu(m * k), gv(n * k);
    const std::vector<T> u0 = random_factor<T>(m, k, 1), v0 = random_factor<T>(n, k, 2);
    std::copy(u0.begin(), u0.end(), u.data());
    std::copy(v0.begin(), v0.end(), v.data());
    const Problem<T> p{obs, u.data(), v.data(), k, 0.05, gu.data(), gv.data()};
    const std::size_t l2 = cache_bytes(2, 1 << 20), l3 = cache_bytes(3, 8 << 20);
    struct Trial {
      PlanCandidate candidate;
      std::unique_ptr<Workspace> ws;
      std::vector<double> times;
    };
    std::vector<Trial> trials;
    const auto time_burst = [&](Trial& t, int burst) {
      const EvalFn<T> fn = code(*t.candidate.kernel).template fn<T>();
      if (burst > 1) fn(p, *t.ws);
      const auto t0 = clock::now();
      for (int b = 0; b < burst; ++b) fn(p, *t.ws);
      t.times.push_back(std::chrono::duration<double>(clock::now() - t0).count() / burst);
    };
    double best = HUGE_VAL;
    for (const Kernel& kern : registry()) {
      if (!kern.supported() || kern.oracle || !fits(kern)) continue;
      std::vector<Workspace::CacheSizes> variants{{}};
      if (code(kern).cache_tunable) variants.insert(variants.end(), {{.l2 = 4 * l2, .l3 = 0}, {.l2 = 0, .l3 = l3}});
      for (const Workspace::CacheSizes& c : variants) {
        Trial t;
        t.candidate.name = variant_name(kern, c);
        t.candidate.kernel = &kern;
        t.candidate.caches = c;
        t.ws = std::make_unique<Workspace>(ws->threads());
        t.ws->set_cache_sizes(c);
        code(kern).template fn<T>()(p, *t.ws);  // preparation and first touch
        time_burst(t, 1);
        best = std::min(best, t.times.back());
        trials.push_back(std::move(t));
        // A prepared layout can be as large as the factors: only the hopeful keep theirs, so that
        // large problems do not hold every candidate's at once.
        for (Trial& h : trials)
          if (h.times.front() > 2 * best) h.ws.reset();
      }
    }
    const auto hopeful = [&](const Trial& t) { return t.times.front() <= 2 * best; };
    const int burst = static_cast<int>(std::clamp(std::round(2e-3 / std::max(best, 1e-9)), 1.0, 64.0));
    double round = 0;
    for (const Trial& t : trials)
      if (hopeful(t)) round += t.times.front() * (burst + (burst > 1));
    const int rounds =
        static_cast<int>(std::clamp(options.seconds_per_candidate * 3 / std::max(round, 1e-9), 2.0, 50.0));
    for (int r = 0; r < rounds; ++r)
      for (Trial& t : trials)
        if (hopeful(t)) time_burst(t, burst);
    for (Trial& t : trials) {
      // The first time (a cold call) only decided who was hopeful.
      if (t.times.size() > 1) t.times.erase(t.times.begin());
      t.candidate.seconds = detail::median(t.times);
    }
    // Candidates dropped as hopeless (their layouts freed) rank after every one still in the running,
    // whatever their single cold time says.
    std::stable_sort(trials.begin(), trials.end(), [](const Trial& a, const Trial& b) {
      if ((a.ws != nullptr) != (b.ws != nullptr)) return a.ws != nullptr;
      return a.candidate.seconds < b.candidate.seconds;
    });
    for (Trial& t : trials) t.candidate.dropped = t.ws == nullptr;
    std::vector<PlanCandidate> ranked;
    for (const Trial& t : trials) ranked.push_back(t.candidate);
    const std::size_t pick = detail::pick_candidate(ranked);
    kernel = trials[pick].candidate.kernel;
    caches = trials[pick].candidate.caches;
    ws = std::move(trials[pick].ws);  // keep the winner's prepared layout
    candidates = std::move(ranked);
    reason = "measured on this data, " + std::to_string(rounds) + " interleaved bursts of " + std::to_string(burst) +
             (burst == 1 ? " run of " : " runs of ") + std::to_string(candidates.size()) + " candidates: ";
    for (std::size_t x = 0; x < candidates.size() && x < 3; ++x)
      reason += (x ? ", " : "") + candidates[x].name + " " + detail::format_duration(candidates[x].seconds);
    if (candidates.size() > 3) reason += ", …";
    if (pick != 0) reason += "; the default tile sizes are within 5 % of the best, so they are kept";
  }

  template <class T>
  void prepare() {
    const std::size_t m = static_cast<std::size_t>(obs.rows()), n = static_cast<std::size_t>(obs.cols());
    std::vector<T> u(m * k, T{}), v(n * k, T{});
    std::vector<compute_t<T>> gu(m * k), gv(n * k);
    code(*kernel).fn<T>()({obs, u.data(), v.data(), k, 0.0, gu.data(), gv.data()}, *ws);
  }
};

Plan::Plan(const Observed& obs, std::size_t k, Precision precision, const PlanOptions& options)
    : s_(std::make_unique<State>()) {
  if (k == 0) throw Error("k must be at least 1");
  check_rank(k);
  simd_level();  // an invalid MFGRAD_ISA is refused here too, whichever implementation is asked for
  if (precision != Precision::f64 && !obs.float32_overflow().empty())
    throw Error(std::string(to_string(precision)) + " plan refused: " + obs.float32_overflow());
  if (!std::isfinite(options.seconds_per_candidate) || options.seconds_per_candidate <= 0)
    throw Error("seconds per candidate must be a finite number above 0, got " +
                format_number(options.seconds_per_candidate));
  s_->obs = obs;
  s_->k = k;
  s_->precision = precision;
  s_->ws = std::make_unique<Workspace>(options.threads);
  s_->limit = memory_limit();
  // Memory is counted before any is spent: implementations whose working memory does not fit are left
  // out (and named in the reason); when none fits, or the one requested does not, the plan is refused.
  std::string left_out;
  const Kernel* smallest = nullptr;
  for (const Kernel& kern : registry()) {
    if (!kern.supported() || kern.oracle) continue;
    if (smallest == nullptr || s_->need(kern).total() < s_->need(*smallest).total()) smallest = &kern;
    if (!s_->fits(kern))
      left_out += (left_out.empty() ? "" : ", ") + (kern.name + (" " + format_bytes(s_->need(kern).total())));
  }
  const auto refuse = [&](const Kernel& kern, const char* which) {
    throw OutOfMemory("making a plan for " + s_->problem() + ": " + which + ", " + kern.name + ", needs about " +
                      s_->need(kern).describe() + ", more than " + s_->limit_text());
  };
  if (smallest != nullptr && !s_->fits(*smallest)) refuse(*smallest, "the implementation needing the least memory");
  bool prepared = false;
  if (!options.kernel.empty()) {
    s_->kernel = &mfgrad::kernel(options.kernel);
    if (!s_->fits(*s_->kernel)) refuse(*s_->kernel, "the requested implementation");
    s_->reason = "requested: " + options.kernel;
    left_out.clear();
  } else if (options.mode == PlanMode::estimate) {
    std::tie(s_->kernel, s_->reason) =
        estimate(obs, k, precision, s_->ws->threads(), [&](const Kernel& kern) { return s_->fits(kern); });
  } else {
    {
      std::lock_guard lock(wisdom_mutex);
      auto it = wisdom().find(s_->key());
      if (it != wisdom().end())
        if (const Kernel* known = find_kernel(it->second.kernel);
            known != nullptr && known->supported() && s_->fits(*known)) {
          s_->kernel = known;
          s_->caches = it->second.caches;
          s_->from_wisdom = true;
          s_->reason = "wisdom: " + variant_name(*known, it->second.caches) + " measured fastest (" +
                       detail::format_duration(it->second.seconds) + ") for this shape on this machine";
        }
    }
    if (s_->kernel == nullptr) {
      with_precision(precision, [&](auto t) { s_->measure<decltype(t)>(options); });
      prepared = true;
      std::lock_guard lock(wisdom_mutex);
      double chosen = 0;
      for (const PlanCandidate& c : s_->candidates)
        if (c.kernel == s_->kernel && c.caches.l2 == s_->caches.l2 && c.caches.l3 == s_->caches.l3) chosen = c.seconds;
      wisdom()[s_->key()] = {s_->kernel->name, s_->caches, chosen};
    }
  }
  if (!left_out.empty())
    s_->reason += "; left out, as their working memory does not fit in " + s_->limit_text() + ": " + left_out;
  s_->ws->set_cache_sizes(s_->caches);
  // The chosen layout is built now, so that no evaluate() pays for it.
  if (!prepared) {
    with_precision(precision, [&](auto t) { s_->prepare<decltype(t)>(); });
  }
}

Plan::Plan(Plan&&) noexcept = default;
Plan& Plan::operator=(Plan&&) noexcept = default;
Plan::~Plan() = default;

template <class T>
double Plan::evaluate(Matrix<const T> u, Matrix<const T> v, double lambda, Matrix<compute_t<T>> grad_u,
                      Matrix<compute_t<T>> grad_v, const EvalOptions& options) {
  if (precision_of<T>() != s_->precision)
    throw Error(std::string("plan was made for ") + to_string(s_->precision) + ", not " + to_string(precision_of<T>()));
  if (u.cols != s_->k)
    throw Error("plan was made for k = " + std::to_string(s_->k) + ", but U has " + std::to_string(u.cols) +
                " columns");
  // The workspace holds one evaluation's scratch: a second evaluation at once would share it and
  // return wrong numbers, so it is refused instead (cheaply: one atomic exchange per call).
  if (s_->busy.exchange(true, std::memory_order_acquire))
    throw Error(
        "this plan is already evaluating on another thread; a plan serves one evaluation at a time: "
        "make one plan per thread");
  struct Release {
    std::atomic<bool>& busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  } release{s_->busy};
  return mfgrad::evaluate<T>(*s_->kernel, s_->obs, u, v, lambda, grad_u, grad_v, *s_->ws, options);
}

template <class T>
double Plan::evaluate(std::span<const T> u, std::span<const T> v, double lambda, std::span<compute_t<T>> grad_u,
                      std::span<compute_t<T>> grad_v, const EvalOptions& options) {
  const auto m = static_cast<std::size_t>(s_->obs.rows()), n = static_cast<std::size_t>(s_->obs.cols());
  const std::size_t k = s_->k;
  const auto check = [k](const char* name, std::size_t size, std::size_t rows, const char* meaning) {
    if (size != rows * k)
      throw Error(std::string(name) + " holds " + std::to_string(size) + " elements but must hold " +
                  std::to_string(rows) + " x " + std::to_string(k) + " = " + std::to_string(rows * k) + " (" + meaning +
                  " x k, row-major)");
  };
  check("U", u.size(), m, "m");
  check("V", v.size(), n, "n");
  check("grad_U", grad_u.size(), m, "m");
  check("grad_V", grad_v.size(), n, "n");
  return evaluate<T>(Matrix<const T>{u.data(), m, k}, Matrix<const T>{v.data(), n, k}, lambda,
                     Matrix<compute_t<T>>{grad_u.data(), m, k}, Matrix<compute_t<T>>{grad_v.data(), n, k}, options);
}

#define MFGRAD_PLAN_EVALUATE(T)                                                                              \
  template double Plan::evaluate<T>(Matrix<const T>, Matrix<const T>, double, Matrix<compute_t<T>>,          \
                                    Matrix<compute_t<T>>, const EvalOptions&);                               \
  template double Plan::evaluate<T>(std::span<const T>, std::span<const T>, double, std::span<compute_t<T>>, \
                                    std::span<compute_t<T>>, const EvalOptions&);
MFGRAD_PLAN_EVALUATE(float)
MFGRAD_PLAN_EVALUATE(double)
MFGRAD_PLAN_EVALUATE(bfloat16)
MFGRAD_PLAN_EVALUATE(float16)
#undef MFGRAD_PLAN_EVALUATE

const Kernel& Plan::kernel() const noexcept { return *s_->kernel; }
std::string Plan::choice() const { return variant_name(*s_->kernel, s_->caches); }
const Workspace::CacheSizes& Plan::cache_sizes() const noexcept { return s_->caches; }
const std::string& Plan::reason() const noexcept { return s_->reason; }
const std::vector<PlanCandidate>& Plan::candidates() const noexcept { return s_->candidates; }
int Plan::threads() const noexcept { return s_->ws->threads(); }
std::size_t Plan::k() const noexcept { return s_->k; }
Precision Plan::precision() const noexcept { return s_->precision; }
bool Plan::from_wisdom() const noexcept { return s_->from_wisdom; }

std::string Plan::machine_signature() {
  static const std::string machine =
      cpu_model() + " / " + std::to_string(std::thread::hardware_concurrency()) + " threads / ";
  return machine + simd_arch_name();  // the level now: set_simd_level() may have changed it
}

void Plan::forget_wisdom() {
  std::lock_guard lock(wisdom_mutex);
  wisdom().clear();
}

// Line 1 "mfgrad-wisdom 1"; then one choice per line, tab-separated: machine, m, n, nnz, k, precision,
// threads, implementation, L2 bytes, L3 bytes (0: the machine's), measured seconds.
void Plan::save_wisdom(const std::string& path) {
  std::ostringstream out;
  out << "mfgrad-wisdom 1\n";
  {
    std::lock_guard lock(wisdom_mutex);
    for (const auto& [key, c] : wisdom())
      out << key.machine << '\t' << key.m << '\t' << key.n << '\t' << key.nnz << '\t' << key.k << '\t'
          << to_string(key.precision) << '\t' << key.threads << '\t' << c.kernel << '\t' << c.caches.l2 << '\t'
          << c.caches.l3 << '\t' << format_number(c.seconds) << '\n';
  }
  try {
    detail::write_file_atomically(path, out.str());
  } catch (const FileError& e) {
    throw FileError(std::string("cannot write wisdom file ") + path + " (" + e.what() + ")", e.path(), e.error_code());
  } catch (const Error& e) {
    throw Error(std::string("cannot write wisdom file ") + path + " (" + e.what() + ")");
  }
}

namespace {

constexpr std::string_view kWisdomHeader = "mfgrad-wisdom 1";

// A whole field as an integer in [min, max], or nullopt: no sign where none is allowed, no spaces, no
// trailing text.
template <class I>
std::optional<I> whole(std::string_view field, I min, I max) {
  I v{};
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || end != field.data() + field.size() || field.empty() || v < min || v > max)
    return std::nullopt;
  return v;
}

}  // namespace

void Plan::load_wisdom(const std::string& path) {
  // The first line is checked before the rest is read, so that a device or pipe of anything else is
  // refused at once.
  const detail::FileBytes bytes(
      path,
      [&](std::string_view head) {
        if (!head.starts_with(kWisdomHeader) ||
            (head.size() > kWisdomHeader.size() && head[kWisdomHeader.size()] != '\n'))
          throw Error(path + ":1: not an mfgrad wisdom file (it does not start with '" + std::string(kWisdomHeader) +
                      "')");
      },
      kWisdomHeader.size() + 1);
  std::string_view text = bytes.view();
  const auto next_line = [&](std::string_view& line) {
    if (text.empty()) return false;
    const std::size_t end = std::min(text.find('\n'), text.size());
    line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    return true;
  };
  std::string_view line;
  if (!next_line(line) || line != kWisdomHeader)
    throw Error(path + ":1: not an mfgrad wisdom file (it does not start with '" + std::string(kWisdomHeader) + "')");
  std::map<ShapeKey, Choice> read;
  for (std::int64_t number = 2; next_line(line); ++number) {
    if (line.empty()) continue;
    std::vector<std::string_view> f;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string_view::npos; start = tab + 1)
      f.push_back(line.substr(start, tab - start));
    f.push_back(line.substr(start));
    const auto bad = [&](const std::string& what) {
      throw Error(path + ":" + std::to_string(number) + ": malformed wisdom line: " + what +
                  " (expected 11 tab-separated fields: machine, m, n, nnz, k, precision, threads, implementation, "
                  "L2 bytes, L3 bytes, seconds)");
    };
    if (f.size() != 11) bad(std::to_string(f.size()) + (f.size() == 1 ? " field" : " fields"));
    const auto field = [&]<class I>(std::size_t at, const char* name, I min, I max) {
      const std::optional<I> v = whole<I>(f[at], min, max);
      if (!v)
        bad(std::string(name) + " " + quote(f[at]) + " is not a whole number from " + std::to_string(min) + " to " +
            std::to_string(max));
      return *v;
    };
    const std::optional<Precision> precision = detail::parse_precision(f[5]);
    if (!precision) bad("precision " + quote(f[5]) + " is neither float32 nor float64");
    const auto largest = static_cast<std::uint64_t>(Workspace::largest_cache);
    const ShapeKey key{std::string(f[0]),
                       field(1, "m", index_t{0}, std::numeric_limits<index_t>::max()),
                       field(2, "n", index_t{0}, std::numeric_limits<index_t>::max()),
                       field(3, "nnz", offset_t{0}, std::numeric_limits<offset_t>::max()),
                       static_cast<std::size_t>(field(4, "k", std::uint64_t{1}, std::uint64_t{max_rank})),
                       *precision,
                       field(6, "threads", 1, 4096)};
    const auto l2 = static_cast<std::size_t>(field(8, "L2 bytes", std::uint64_t{0}, largest));
    const auto l3 = static_cast<std::size_t>(field(9, "L3 bytes", std::uint64_t{0}, largest));
    double seconds = 0;
    const auto [end, ec] = std::from_chars(f[10].data(), f[10].data() + f[10].size(), seconds);
    if (ec != std::errc() || end != f[10].data() + f[10].size() || !std::isfinite(seconds) || seconds < 0)
      bad("seconds " + quote(f[10]) + " is not a finite number of seconds, at least 0");
    read[key] = {std::string(f[7]), {l2, l3}, seconds};
  }
  std::lock_guard lock(wisdom_mutex);
  for (auto& [key, choice] : read) wisdom()[key] = choice;
}

}  // namespace mfgrad
