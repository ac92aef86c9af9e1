// mfgrad kernels — what is registered and what this CPU runs.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli.hpp"
#include "mfgrad/kernel.hpp"
#include "mfgrad/message.hpp"

namespace mfgrad::cli {

int cmd_kernels(const std::vector<std::string>& argv) {
  Args args("kernels", argv, {});
  if (!args.positional().empty()) throw UsageError("kernels: unexpected argument " + quote(args.positional()[0]));
  std::printf("%-16s %-9s %-13s %-9s %s\n", "implementation", "supported", "deterministic", "needs", "description");
  for (const Kernel& k : registry())
    std::printf("%-16s %-9s %-13s %-9s %s\n", k.name, k.supported() ? "yes" : "no", k.deterministic ? "yes" : "no",
                to_string(k.isa), k.description);
  const char* forced = std::getenv("MFGRAD_KERNEL");
  const char* cap = std::getenv("MFGRAD_ISA");
  const unsigned sve_bits = sve_vector_bits();
  const std::string vectors = sve_bits ? " (" + std::to_string(sve_bits) + "-bit vectors)" : "";
  std::printf("\nCPU: %s%s; SIMD dispatch: %s%s%s\nbest: %s; default: %s%s\n", to_string(cpu_best_isa()),
              vectors.c_str(), simd_arch_name(), cap ? " (MFGRAD_ISA=" : "",
              cap ? (std::string(cap) + ")").c_str() : "", best_kernel().name, default_kernel().name,
              forced ? " (MFGRAD_KERNEL)" : "");
  std::string levels;  // what --isa and MFGRAD_ISA can choose from in this build
  for (Isa isa : built_isas()) levels += (levels.empty() ? "" : ", ") + std::string(to_string(isa));
  std::printf("SIMD levels built (%s): %s\n", to_string(build_isa_family()), levels.c_str());
  return 0;
}

}  // namespace mfgrad::cli
