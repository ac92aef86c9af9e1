// Preloaded (LD_PRELOAD) into the test processes of the TSan stage: holds oneTBB to one thread.
//
// Debian's libtbb is not built with -fsanitize=thread, so ThreadSanitizer cannot see the
// synchronisation inside its scheduler: work that one parallel_for writes and the next one reads, on
// another of oneTBB's threads, is reported as a race in mfgrad's own frames although the first loop has
// finished. Such reports cannot be suppressed without hiding real races in the same frames, so oneTBB
// runs everything on the calling thread here; OpenMP, which Archer makes visible, keeps every thread.
#include <oneapi/tbb/global_control.h>

namespace {
const oneapi::tbb::global_control one_thread(oneapi::tbb::global_control::max_allowed_parallelism, 1);
}  // namespace
