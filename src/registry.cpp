// The registry: kernels/kernels.inc expanded into one table, plus lookup and invocation counts.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "kernel_author.hpp"
#include "mfgrad/kernel.hpp"
#include "mfgrad/message.hpp"

// Every kernels/<name>.cpp defines these in mfgrad::kernels::<name>; prefers only where its line
// names it (a declaration nobody uses costs nothing).
#define MFGRAD_KERNEL(name, ...)                         \
  namespace mfgrad::kernels::name {                      \
  double evaluate(const Problem<float>&, Workspace&);    \
  double evaluate(const Problem<double>&, Workspace&);   \
  double evaluate(const Problem<bfloat16>&, Workspace&); \
  double evaluate(const Problem<float16>&, Workspace&);  \
  Preference prefers(const ShapeHint&);                  \
  }
#include "kernels.inc"
#undef MFGRAD_KERNEL

namespace mfgrad::kernels {
namespace {

// The columns of kernels/kernels.inc, in the order a line names them, with their defaults.
struct KernelTraits {
  Isa isa = Isa::baseline;
  bool oracle = false;
  bool serial = false;
  bool deterministic = false;
  bool simd = false;
  bool cache_tunable = false;
  bool native_half = false;
  int tier = 1;
  PrefersFn prefers = nullptr;
  const char* description = "";
};

// Checked when the library is compiled: one oracle, and no line takes a name the plan reserves.
constexpr int oracle_lines = 0
#define MFGRAD_KERNEL(name, ...) +(KernelTraits{__VA_ARGS__}.oracle ? 1 : 0)
#include "kernels.inc"
#undef MFGRAD_KERNEL
    ;
static_assert(oracle_lines == 1, "kernels/kernels.inc: exactly one line must be .oracle = true");
#define MFGRAD_KERNEL(name, ...)                                                                       \
  static_assert(std::string_view(#name) != plan_name && std::string_view(#name) != plan_estimate_name, \
                "kernels/kernels.inc: " #name " is a name mfgrad::Plan reserves (mfgrad/kernel.hpp)");
#include "kernels.inc"
#undef MFGRAD_KERNEL

// One line of the list: what its users see, and how it runs.
struct Listed {
  Kernel kernel;
  KernelCode code;
};

Listed entry(const char* name, const KernelTraits& t, EvalFn<float> f32, EvalFn<double> f64, EvalFn<bfloat16> bf16,
             EvalFn<float16> f16) {
  return {.kernel = {.name = name,
                     .description = t.description,
                     .isa = t.isa,
                     .oracle = t.oracle,
                     .serial = t.serial,
                     .deterministic = t.deterministic,
                     .code = nullptr},
          .code = {.simd = t.simd,
                   .cache_tunable = t.cache_tunable,
                   .native_half = t.native_half,
                   .tier = t.tier,
                   .prefers = t.prefers,
                   .f32 = f32,
                   .f64 = f64,
                   .bf16 = bf16,
                   .f16 = f16}};
}

// The list, expanded where kernels::<name> is in scope for the prefers column.
std::vector<Listed> listed() {
  return {
#define MFGRAD_KERNEL(name, ...) \
  entry(#name, KernelTraits{__VA_ARGS__}, &name::evaluate, &name::evaluate, &name::evaluate, &name::evaluate),
#include "kernels.inc"
#undef MFGRAD_KERNEL
  };
}

}  // namespace
}  // namespace mfgrad::kernels

namespace mfgrad {

namespace {

// table[x].code points at code[x]; neither vector changes size after it is made.
struct Registry {
  std::vector<Kernel> table;
  std::vector<KernelCode> code;
  std::unique_ptr<std::atomic<std::uint64_t>[]> calls;
};

Registry& table() {
  static Registry r = [] {
    Registry reg;
    for (const kernels::Listed& l : kernels::listed()) {
      reg.table.push_back(l.kernel);
      reg.code.push_back(l.code);
    }
    for (std::size_t x = 0; x < reg.table.size(); ++x) reg.table[x].code = &reg.code[x];
    reg.calls = std::make_unique<std::atomic<std::uint64_t>[]>(reg.table.size());
    return reg;
  }();
  return r;
}

std::string known_names() {
  std::string s;
  for (const Kernel& k : table().table) s += (s.empty() ? "" : ", ") + std::string(k.name);
  return s;
}

}  // namespace

std::span<const Kernel> registry() { return table().table; }

const Kernel* find_kernel(std::string_view name) {
  for (const Kernel& k : table().table)
    if (name == k.name) return &k;
  return nullptr;
}

const Kernel& kernel(std::string_view name) {
  const Kernel* k = find_kernel(name);
  if (k == nullptr) throw Error("unknown implementation " + quote(name) + " (known: " + known_names() + ")");
  if (!k->supported())
    throw Error("implementation '" + std::string(name) + "' needs " + to_string(k->isa) +
                ", which this CPU (or MFGRAD_ISA) does not allow");
  return *k;
}

const Kernel& best_kernel() {
  const Kernel* best = nullptr;
  for (const Kernel& k : table().table)
    if (k.supported() && (best == nullptr || k.code->tier > best->code->tier)) best = &k;
  return *best;  // naive needs only the baseline, so there always is one
}

const Kernel& oracle() {
  static const Kernel& o = []() -> const Kernel& {
    for (const Kernel& k : table().table)
      if (k.oracle) return k;
    throw Error("kernels/kernels.inc marks no implementation .oracle");
  }();
  return o;
}

const Kernel& default_kernel() {
  const char* forced = std::getenv("MFGRAD_KERNEL");
  if (forced != nullptr && *forced != '\0') {
    try {
      return kernel(forced);
    } catch (const Error& e) {
      throw Error(std::string("MFGRAD_KERNEL: ") + e.what());
    }
  }
  return best_kernel();
}

namespace {
// The invocation counter of a registered kernel; nullptr for one outside the registry (a peer).
std::atomic<std::uint64_t>* counter(const Kernel& k) {
  Registry& r = table();
  const auto index = static_cast<std::size_t>(&k - r.table.data());
  return index < r.table.size() ? &r.calls[index] : nullptr;
}
}  // namespace

std::uint64_t invocations(const Kernel& k) {
  const auto* c = counter(k);
  return c != nullptr ? c->load() : 0;
}

namespace detail {
void count_invocation(const Kernel& k) {
  if (auto* c = counter(k)) c->fetch_add(1, std::memory_order_relaxed);
}
}  // namespace detail

const KernelCode& code(const Kernel& kernel) {
  if (kernel.code == nullptr) throw Error(std::string("implementation '") + kernel.name + "' has no code to run");
  return *kernel.code;
}

void testing::replace_kernel(std::string_view name, EvalFn<float> f32, EvalFn<double> f64) {
  Registry& r = table();
  for (std::size_t x = 0; x < r.table.size(); ++x)
    if (name == r.table[x].name) {
      r.code[x].f32 = f32;
      r.code[x].f64 = f64;
      return;
    }
  throw Error("replace_kernel: unknown implementation '" + std::string(name) + "'");
}

}  // namespace mfgrad
