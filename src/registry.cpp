// The registry: kernels/kernels.inc expanded into one table, plus lookup and invocation counts.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "mfgrad/kernel.hpp"

#define MFGRAD_KERNEL(name, isa, deterministic, tier, tunable, description) \
  namespace mfgrad::kernels::name {                                \
  double evaluate(const Problem<float>&, Workspace&);              \
  double evaluate(const Problem<double>&, Workspace&);             \
  }
#include "kernels.inc"
#undef MFGRAD_KERNEL

namespace mfgrad {

namespace {

struct Registry {
  std::vector<Kernel> table;
  std::unique_ptr<std::atomic<std::uint64_t>[]> calls;
};

Registry& table() {
  static Registry r = [] {
    Registry reg;
    reg.table = {
#define MFGRAD_KERNEL(name, isa, deterministic, tier, tunable, description)                     \
  Kernel{#name, description, Isa::isa, deterministic, tier, tunable, &kernels::name::evaluate, \
         &kernels::name::evaluate},
#include "kernels.inc"
#undef MFGRAD_KERNEL
    };
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
  if (k == nullptr) throw Error("unknown implementation '" + std::string(name) + "' (known: " + known_names() + ")");
  if (!k->supported())
    throw Error("implementation '" + std::string(name) + "' needs " + to_string(k->isa) +
                ", which this CPU (or MFGRAD_ISA) does not allow");
  return *k;
}

const Kernel& best_kernel() {
  const Kernel* best = nullptr;
  for (const Kernel& k : table().table)
    if (k.supported() && (best == nullptr || k.tier > best->tier)) best = &k;
  return *best;  // naive needs only the baseline, so there always is one
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

void testing::replace_kernel(std::string_view name, EvalFn<float> f32, EvalFn<double> f64) {
  for (Kernel& k : table().table)
    if (name == k.name) {
      k.f32 = f32;
      k.f64 = f64;
      return;
    }
  throw Error("replace_kernel: unknown implementation '" + std::string(name) + "'");
}

}  // namespace mfgrad
